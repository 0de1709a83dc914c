"""Cases on record for the growth benchmark: N cases with the rows the four services keep
for each, written straight into their schemas (tables made by the services' own migrations).

Shapes follow what a real run leaves behind (a probe of `bench/throughput.py` cases taken
to an opinion): per case one row in each service's case table, about a dozen timeline
events, the inbox rows of every consumed event, seats, assignments and offers, sla's clock,
its fired timers and history, notify's deliveries. `OPEN` cases (the lowest numbers) are
still open, spread over the last 1.05 turnarounds (a few breached); the rest closed, one a
minute going back in time from three days ago (about 1,440 a day: 1,000,000 cases is about
two years), 96 % with an opinion (5 % late), 4 % withdrawn. Everything is built from
`generate_series` in a scratch schema `growth` and copied with `INSERT ... SELECT`.
Synthetic only: no personal data (patients are `P<n>`, addresses `@example.org`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

import asyncpg
from _history_sql import DERIVE, EVENTS, HISTORY, SERVICES

GROUPS = ["head_and_neck", "gastrointestinal", "thoracic", "sarcoma", "skin", "breast",
          "gynaecologic", "genitourinary", "neuro", "endocrine", "unknown_primary",
          "haematologic"]
OPEN = 2000
LOADED = [("intake", "cases"), ("intake", "timeline"), ("intake", "inbox"),
          ("matcher", "cases"), ("matcher", "seats"), ("matcher", "assignments"),
          ("matcher", "inbox"), ("sla", "clocks"), ("sla", "offers"), ("sla", "timers"),
          ("sla", "clock_history"), ("sla", "inbox"), ("sla", "unmatched_seats"),
          ("notify", "cases"), ("notify", "offers"), ("notify", "deliveries"),
          ("notify", "inbox")]


def _params(lo: int, hi: int, specialists: int, t0: datetime) -> dict[str, str]:
    per_group = max(specialists // len(GROUPS), 4)
    return {"lo": str(lo), "hi": str(hi), "open": str(OPEN), "t0": f"'{t0.isoformat()}'"
            "::timestamptz", "quads": str(per_group // 4),
            "groups": "ARRAY[" + ",".join(f"'{g}'" for g in GROUPS) + "]"}


async def seed_roster(conn: asyncpg.Connection, specialists: int, t0: datetime) -> None:
    """`specialists` in matcher's roster: one tumour group each (every fifth a second), a role
    pair by (id // 12) % 4, licensed in GB, IE and US, always available."""
    p = _params(0, 0, specialists, t0)
    await conn.execute(f"""
        INSERT INTO matcher.specialists (id, name, email, roles, tumor_groups, max_active,
            active_count, languages, regions, institution, timezone, active, last_assigned_at,
            cancer_types, on_call, updated_at)
        SELECT 'sp-' || lpad(i::text, 5, '0'), 'Dr Growth ' || i, 'sp-' || i || '@example.org',
               CASE (i / 12) % 4 WHEN 0 THEN ARRAY['medical_oncologist', 'haematologist']
                   WHEN 1 THEN ARRAY['medical_oncologist', 'paediatric_oncologist']
                   WHEN 2 THEN ARRAY['pathologist', 'haematopathologist']
                   ELSE ARRAY['radiologist', 'surgical_oncologist'] END,
               CASE WHEN i % 5 = 0 THEN ARRAY[({p['groups']})[i % 12 + 1],
                                              ({p['groups']})[(i + 3) % 12 + 1]]
                    ELSE ARRAY[({p['groups']})[i % 12 + 1]] END,
               1000, 0, '{{en}}', '{{GB,IE,US}}', 'Inst ' || (i % 200), 'UTC', true,
               {p['t0']} - make_interval(mins => i % 1000), '{{}}'::jsonb, false, {p['t0']}
        FROM generate_series(0, {specialists - 1}) i""")


async def seed_cases(dsn: str, cases: int, specialists: int, t0: datetime,
                     progress: Callable[[str], None] = print,
                     workers: int = 2) -> dict[str, float]:
    """Cases 1..`cases` in every schema (the roster seeded first); returns seconds per phase.
    Independent statements run on `workers` connections."""
    p = _params(1, cases, specialists, t0)
    took: dict[str, float] = {}
    settings = {"synchronous_commit": "off", "maintenance_work_mem": "1GB",
                "work_mem": "256MB"}
    async with asyncpg.create_pool(dsn, min_size=workers, max_size=workers,
                                   server_settings=settings) as pool:
        async def run(phase: str, statements: list[str], parallel: bool) -> None:
            start = time.monotonic()
            if parallel:
                queue = list(statements)

                async def worker() -> None:
                    async with pool.acquire() as conn:
                        while queue:
                            await conn.execute(queue.pop(0))

                await asyncio.gather(*(worker() for _ in range(workers)))
            else:
                async with pool.acquire() as conn:
                    for sql in statements:
                        await conn.execute(sql)
            took[phase] = round(time.monotonic() - start, 1)
            progress(f"  seeded {phase} in {took[phase]} s")

        async with pool.acquire() as conn:
            await conn.execute("DROP SCHEMA IF EXISTS growth CASCADE; CREATE SCHEMA growth")
            indexes, keys, fks = await _drop_indexes(conn)
        await run("derive", [sql.format(**p) for sql in DERIVE], False)
        await run("services", [sql.format(**p) for sql in SERVICES], True)
        await run("events", [sql.format(**p) for sql in EVENTS], False)
        # the biggest first, so that the two workers finish together
        await run("history", [sql.format(**p) for sql in HISTORY], True)
        await run("indexes", sorted(indexes + keys, key=_weight, reverse=True), True)
        await run("foreign keys", fks, True)
        async with pool.acquire() as conn:
            await conn.execute("""
                UPDATE matcher.specialists s SET active_count = l.n FROM (
                    SELECT specialist_id, count(*) AS n FROM matcher.assignments
                    WHERE status IN ('offered', 'accepted') GROUP BY specialist_id) l
                WHERE s.id = l.specialist_id""")
            await conn.execute("DROP SCHEMA growth CASCADE")
        # what autovacuum would have done over two years (visibility map, statistics)
        await run("vacuum", [f"VACUUM ANALYZE {s}.{t}" for s, t in LOADED]
                  + ["VACUUM ANALYZE matcher.specialists"], True)
    return took


def _weight(sql: str) -> int:
    """Rough cost of building an index: the history tables first."""
    return sum(name in sql for name in ("timeline", "inbox", "deliveries", "clock_history"))


async def _drop_indexes(
        conn: asyncpg.Connection) -> tuple[list[str], list[str], list[str]]:
    """Drop the indexes, keys and foreign keys of the tables seeded (as pg_restore does: one
    sort per index afterwards is many times faster than inserting into it row by row);
    returns the statements that put back exactly what the migrations made: indexes, keys,
    foreign keys."""
    tables = [f"{schema}.{name}" for schema, name in LOADED]
    fks = await conn.fetch(
        "SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS def"
        " FROM pg_constraint WHERE contype = 'f' AND (conrelid::regclass::text = ANY($1)"
        " OR confrelid::regclass::text = ANY($1))", tables)
    keys = await conn.fetch(
        "SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS def"
        " FROM pg_constraint WHERE contype IN ('p', 'u') AND conrelid::regclass::text = ANY($1)",
        tables)
    plain = await conn.fetch(
        "SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS def"
        " FROM pg_index i WHERE indrelid::regclass::text = ANY($1)"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        tables)
    for r in fks:
        await conn.execute(f'ALTER TABLE {r["t"]} DROP CONSTRAINT "{r["conname"]}"')
    for r in keys:
        await conn.execute(f'ALTER TABLE {r["t"]} DROP CONSTRAINT "{r["conname"]}"')
    for r in plain:
        await conn.execute(f"DROP INDEX {r['name']}")
    return ([r["def"] for r in plain],
            [f'ALTER TABLE {r["t"]} ADD CONSTRAINT "{r["conname"]}" {r["def"]}' for r in keys],
            [f'ALTER TABLE {r["t"]} ADD CONSTRAINT "{r["conname"]}" {r["def"]}' for r in fks])


async def row_counts(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT schemaname || '.' || relname AS t, n_live_tup AS n FROM pg_stat_user_tables"
        " WHERE schemaname IN ('intake', 'matcher', 'sla', 'notify') ORDER BY 1")
    return {r["t"]: int(r["n"]) for r in rows if r["n"]}
