"""The embedded default: Tansu and PostgreSQL from PyPI wheels, so a fresh machine needs only Python."""
