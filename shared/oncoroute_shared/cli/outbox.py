"""`oncoroute outbox parked | requeue SERVICE [--id N ...]`: events the broker refused."""

from __future__ import annotations

import argparse
import asyncio
import sys

import asyncpg

from ..embedded.stack import SERVICES


def register(sub: argparse._SubParsersAction) -> None:
    outbox = sub.add_parser("outbox", help="events the producer refused for good (parked)")
    verbs = outbox.add_subparsers(dest="verb", required=True)
    listing = verbs.add_parser("parked", help="list parked events of every service (ids, "
                                              "topic, size and reason; never their content)")
    listing.set_defaults(func=lambda a: asyncio.run(_parked()))
    requeue = verbs.add_parser("requeue", help="put a service's parked events back at the end "
                                               "of its outbox, once the cause is fixed")
    requeue.add_argument("service", choices=SERVICES)
    requeue.add_argument("--id", type=int, action="append", dest="ids",
                         help="only this parked row (repeatable; default: all)")
    requeue.set_defaults(func=lambda a: asyncio.run(_requeue(a.service, a.ids)))


async def _connect(schema: str) -> asyncpg.Connection:
    from ..runtime import database_url
    from ..settings import ServiceSettings, load

    return await asyncpg.connect(database_url(load(ServiceSettings)),
                                 server_settings={"search_path": f'"{schema}",public'})


async def _parked() -> int:
    from ..messaging import parking

    found = 0
    for service in SERVICES:
        conn = await _connect(service)
        try:
            if await conn.fetchval("SELECT to_regclass('outbox_parked')") is None:
                continue  # the service has not started yet: nothing to park
            for row in await parking.listing(conn):
                found += 1
                print(f"{service}\t{row['id']}\t{row['topic']}\t{row['event_id']}\t"
                      f"{row['bytes']} bytes\t{row['parked_at']:%Y-%m-%d %H:%M:%S%z}\t"
                      f"{row['reason']}")
        finally:
            await conn.close()
    print(f"{found} parked", file=sys.stderr)
    return 0


async def _requeue(service: str, ids: list[int] | None) -> int:
    from ..messaging import parking

    conn = await _connect(service)
    try:
        async with conn.transaction():
            moved = await parking.requeue(conn, ids)
    finally:
        await conn.close()
    print(f"{moved} requeued from {service}'s parked events", file=sys.stderr)
    return 0 if moved or not ids else 1
