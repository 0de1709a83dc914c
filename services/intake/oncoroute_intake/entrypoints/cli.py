"""`oncoroute keys create | revoke | list`: submitting systems' API keys, in intake's schema."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import asyncpg

from oncoroute_shared.db.migrations import migrate
from oncoroute_shared.db.pool import create_pool
from oncoroute_shared.runtime import database_url
from oncoroute_shared.settings import ServiceSettings, load

from ..adapters import api_keys
from ..domain.access import Role

MIGRATIONS = Path(__file__).parent.parent / "migrations"
T = TypeVar("T")


async def _with_db(work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    pool = await create_pool(database_url(load(ServiceSettings)), "intake", 2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, "intake", MIGRATIONS)
            async with conn.transaction():
                return await work(conn)
    finally:
        await pool.close()


def create(args: argparse.Namespace) -> int:
    if args.operator == bool(args.source):
        print("give either --source SOURCE (a submitting system) or --operator", file=sys.stderr)
        return 2
    role: Role = "operator" if args.operator else "submitter"
    name = args.name or (args.source or "operator")

    async def work(conn: asyncpg.Connection) -> tuple[str, str]:
        now = datetime.now(UTC)
        if args.rotate:
            for row in await api_keys.listing(conn):
                if row["name"] == name and row["revoked_at"] is None:
                    await api_keys.revoke(conn, row["key_id"], now)
        return await api_keys.create(conn, name=name, role=role, source=args.source, now=now)

    key_id, key = asyncio.run(_with_db(work))
    print(key)
    print(f"key {key_id} ({role}{' for ' + args.source if args.source else ''}): "
          "shown once, stored only as a hash", file=sys.stderr)
    return 0


def revoke(args: argparse.Namespace) -> int:
    async def work(conn: asyncpg.Connection) -> bool:
        return await api_keys.revoke(conn, args.key_id, datetime.now(UTC))

    if not asyncio.run(_with_db(work)):
        print(f"no active key {args.key_id}", file=sys.stderr)
        return 1
    print(f"revoked {args.key_id}")
    return 0


def list_(_args: argparse.Namespace) -> int:
    rows = asyncio.run(_with_db(api_keys.listing))
    for r in rows:
        state = f"revoked {r['revoked_at']:%Y-%m-%d %H:%M}" if r["revoked_at"] else "active"
        print(f"{r['key_id']:14s} {r['role']:9s} {r['source'] or '*':24s} {r['name']:24s} "
              f"{state}")
    return 0
