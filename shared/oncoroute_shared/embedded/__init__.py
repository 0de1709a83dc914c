"""The embedded default: Tansu and PostgreSQL from PyPI wheels; needs only Python."""
