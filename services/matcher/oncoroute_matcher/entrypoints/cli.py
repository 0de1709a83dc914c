"""`oncoroute specialists import FILE | list | token`: talk to the matcher's schema directly."""

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

from ..adapters import roster, tokens
from ..domain.roster_file import RosterError, parse_file
from ..handlers.roster import put_specialists

MIGRATIONS = Path(__file__).parent.parent / "migrations"
T = TypeVar("T")


async def _with_db(dsn: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    pool = await create_pool(dsn, "matcher", 2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, "matcher", MIGRATIONS)
            async with conn.transaction():
                return await work(conn)
    finally:
        await pool.close()


async def import_roster(dsn: str, name: str, text: str) -> int:
    """All or nothing: nothing is written unless every row is valid."""
    specialists = parse_file(name, text)

    async def work(conn: asyncpg.Connection) -> int:
        await put_specialists(conn, specialists, datetime.now(UTC))
        return len(specialists)

    return await _with_db(dsn, work)


def import_(args: argparse.Namespace) -> int:
    settings = load(ServiceSettings)
    path = Path(args.file)
    try:
        text = path.read_text()
    except OSError as exc:
        print(f"roster not imported: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        count = asyncio.run(import_roster(database_url(settings), path.name, text))
    except RosterError as exc:
        print(f"roster not imported:\n{exc}", file=sys.stderr)
        return 2
    print(f"imported {count} specialists")
    return 0


def list_(_args: argparse.Namespace) -> int:
    async def work(conn: asyncpg.Connection) -> None:
        for s in await roster.all_specialists(conn):
            flags = ("" if s.active else " (inactive)") + (" [on call]" if s.on_call else "")
            print(f"{s.id:12s} {s.active_count:>3}/{s.max_active:<3} "
                  f"{','.join(s.roles):40s} {','.join(s.tumor_groups):30s} {s.name}{flags}")

    asyncio.run(_with_db(database_url(load(ServiceSettings)), work))
    return 0


def token(args: argparse.Namespace) -> int:
    """Print a new API token once; only its hash is kept."""
    if bool(args.operator) == bool(args.id):
        print("give a specialist ID, or --operator", file=sys.stderr)
        return 2

    async def work(conn: asyncpg.Connection) -> str | None:
        now = datetime.now(UTC)
        if args.operator:
            return await tokens.issue(conn, tokens.OPERATOR, None, args.label, now)
        if await roster.get(conn, args.id) is None:
            return None
        return await tokens.issue(conn, tokens.SPECIALIST, args.id, args.label, now)

    issued = asyncio.run(_with_db(database_url(load(ServiceSettings)), work))
    if issued is None:
        print(f"no specialist {args.id}", file=sys.stderr)
        return 2
    print(issued)
    return 0
