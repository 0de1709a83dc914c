"""`oncoroute specialists import FILE` and `list`: talk to the matcher's schema directly."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from oncoroute_shared.db.migrations import migrate
from oncoroute_shared.db.pool import create_pool
from oncoroute_shared.runtime import database_url
from oncoroute_shared.settings import ServiceSettings, load

from ..adapters import roster
from ..domain.roster_file import RosterError, parse_csv

MIGRATIONS = Path(__file__).parent.parent / "migrations"


async def import_roster(dsn: str, text: str) -> int:
    specialists = parse_csv(text)
    pool = await create_pool(dsn, "matcher", 2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, "matcher", MIGRATIONS)
            async with conn.transaction():
                await roster.upsert(conn, specialists)
    finally:
        await pool.close()
    return len(specialists)


def import_(args: argparse.Namespace) -> int:
    settings = load(ServiceSettings)
    try:
        count = asyncio.run(import_roster(database_url(settings), Path(args.file).read_text()))
    except RosterError as exc:
        print(f"roster not imported:\n{exc}", file=sys.stderr)
        return 2
    print(f"imported {count} specialists")
    return 0


def list_(_args: argparse.Namespace) -> int:
    async def go() -> None:
        pool = await create_pool(database_url(load(ServiceSettings)), "matcher", 2)
        try:
            async with pool.acquire() as conn:
                for s in await roster.all_specialists(conn):
                    print(f"{s.id:12s} {s.active_count:>3}/{s.max_active:<3} "
                          f"{','.join(s.tumor_groups):30s} {s.name}")
        finally:
            await pool.close()

    asyncio.run(go())
    return 0
