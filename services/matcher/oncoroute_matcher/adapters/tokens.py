"""API tokens: issued once, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import asyncpg

OPERATOR, SPECIALIST = "operator", "specialist"


@dataclass(frozen=True)
class Principal:
    kind: str  # operator | specialist
    specialist_id: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.kind == OPERATOR


def digest(token: str) -> str:
    # tokens are 256 random bits: a fast hash is enough (nothing to brute-force)
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(conn: asyncpg.Connection, kind: str, specialist_id: str | None,
                label: str | None, now: datetime) -> str:
    """A new token; a specialist's earlier tokens stop working (one live token each)."""
    token = ("orop_" if kind == OPERATOR else "orsp_") + secrets.token_urlsafe(32)
    if kind == SPECIALIST:
        await conn.execute("UPDATE api_tokens SET revoked_at = $2 WHERE specialist_id = $1"
                           " AND revoked_at IS NULL", specialist_id, now)
    await conn.execute(
        "INSERT INTO api_tokens (token_hash, kind, specialist_id, label, created_at)"
        " VALUES ($1, $2, $3, $4, $5)", digest(token), kind, specialist_id, label, now)
    return token


async def principal(conn: asyncpg.Connection, token: str) -> Principal | None:
    row = await conn.fetchrow(
        "SELECT t.kind, t.specialist_id FROM api_tokens t"
        " LEFT JOIN specialists s ON s.id = t.specialist_id"
        " WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        " AND (t.kind = 'operator' OR s.active)", digest(token))
    return Principal(row["kind"], row["specialist_id"]) if row else None
