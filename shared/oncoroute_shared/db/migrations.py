"""Versioned SQL migrations, applied at start, once, under an advisory lock.

Each service keeps `migrations/NNN_name.sql`; the shared outbox/inbox tables come first.
"""

from __future__ import annotations

import hashlib
from importlib.resources import files
from pathlib import Path

import asyncpg

SHARED_MIGRATIONS = files("oncoroute_shared.db") / "sql"


def _collect(directory: Path) -> list[tuple[str, str]]:
    return sorted((p.name, p.read_text()) for p in Path(str(directory)).glob("*.sql"))


async def migrate(conn: asyncpg.Connection, schema: str, service_dir: Path) -> list[str]:
    """Apply the shared then the service's migrations into `schema`; returns those applied."""
    lock = int.from_bytes(hashlib.sha256(schema.encode()).digest()[:8], "big", signed=True)
    applied: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", lock)
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        steps = [("shared/" + n, sql) for n, sql in _collect(Path(str(SHARED_MIGRATIONS)))]
        steps += [("service/" + n, sql) for n, sql in _collect(service_dir)]
        for name, sql in steps:
            if name in done:
                continue
            await conn.execute(sql.replace("{schema}", schema))
            await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
            applied.append(name)
    return applied
