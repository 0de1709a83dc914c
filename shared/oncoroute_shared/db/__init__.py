"""PostgreSQL access: pool, versioned migrations per service schema."""
