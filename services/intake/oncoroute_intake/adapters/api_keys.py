"""API keys in intake's schema: created, listed, revoked and looked up by hash."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import asyncpg

from ..domain.access import KEY_PREFIX, Principal, Role, key_hash


async def create(conn: asyncpg.Connection, *, name: str, role: Role, source: str | None,
                 now: datetime) -> tuple[str, str]:
    """A new key; returns (key id, the key). Only the hash is stored: show the key once."""
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    await conn.execute(
        "INSERT INTO api_keys (key_id, key_hash, name, source, role, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        key_id, key_hash(key), name, source, role, now,
    )
    return key_id, key


async def revoke(conn: asyncpg.Connection, key_id: str, now: datetime) -> bool:
    done = await conn.fetchval(
        "UPDATE api_keys SET revoked_at = $2 WHERE key_id = $1 AND revoked_at IS NULL"
        " RETURNING true", key_id, now)
    return bool(done)


async def listing(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch("SELECT key_id, name, source, role, created_at, revoked_at"
                            " FROM api_keys ORDER BY created_at, key_id")
    return [dict(r) for r in rows]


async def principal_for(conn: asyncpg.Connection, key: str) -> Principal | None:
    row = await conn.fetchrow(
        "SELECT key_id, role, source FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
        key_hash(key))
    return Principal(row["key_id"], row["role"], row["source"]) if row else None
