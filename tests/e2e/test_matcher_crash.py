"""SIGKILL the matcher in the middle of a burst of 200 cases, restart it: every case is
assigned exactly once and every event id is processed once.

The cases ask only for reassurance, so the panel has one seat (the disease specialist) and
"assigned exactly once" means one offer per case. Seats are created when the case opens and
offered by the dispatcher in their own transactions, so both steps are checked."""

from __future__ import annotations

import asyncio
from collections import Counter

import asyncpg
import pytest

from ..support.kafka import events
from ..support.submissions import submission
from ..support.waiting import eventually
from .conftest import System

pytestmark = pytest.mark.e2e

BURST = 200


async def _count(db: asyncpg.Connection, sql: str, *args: object) -> int:
    return int(await db.fetchval(sql, *args))


async def test_matcher_killed_mid_burst_assigns_every_case_exactly_once(system: System) -> None:
    source = "crash-test"
    db = await asyncpg.connect(system.infra.database_url)
    processed_sql = ("SELECT count(*) FROM matcher.seats s JOIN intake.cases c"
                     " ON c.case_id = s.case_id WHERE c.source = $1")
    assigned_sql = ("SELECT count(*) FROM matcher.seats s JOIN intake.cases c"
                    " ON c.case_id = s.case_id WHERE c.source = $1 AND s.status = 'offered'")
    try:
        async with system.intake_client() as client:
            sem = asyncio.Semaphore(10)

            async def submit(i: int) -> str:
                async with sem:
                    r = await client.post("/v1/cases", json=submission(
                        source=source, external_id=f"crash-{i}", reasons=["reassurance"]))
                    assert r.status_code == 201, r.text
                    return str(r.json()["case_id"])

            burst = asyncio.gather(*(submit(i) for i in range(BURST)))
            await eventually(lambda: _count(db, processed_sql, source), timeout=60,
                             interval=0.02, what="the matcher to start on the burst")
            system.services["matcher"].kill()
            at_kill = await _count(db, processed_sql, source)
            case_ids = await burst
            assert at_kill < BURST, "the kill must land mid-burst"
            await asyncio.to_thread(system.restart, "matcher")

        async def all_assigned() -> bool:
            return (await _count(db, processed_sql, source) == BURST
                    and await _count(db, assigned_sql, source) == BURST)

        await eventually(all_assigned, timeout=120, what="every case to be assigned")

        rows = await db.fetch(
            "SELECT a.case_id, count(*) AS n FROM matcher.assignments a"
            " JOIN intake.cases c ON c.case_id = a.case_id WHERE c.source = $1"
            " GROUP BY a.case_id", source)
        assert len(rows) == BURST and all(r["n"] == 1 for r in rows)

        load = await db.fetch(
            "SELECT s.id, s.active_count, count(a.*) AS live FROM matcher.specialists s"
            " LEFT JOIN matcher.assignments a ON a.specialist_id = s.id"
            " AND a.status IN ('offered', 'accepted') GROUP BY s.id, s.active_count")
        assert all(r["active_count"] == r["live"] for r in load), "capacity counted twice"

        ours = set(case_ids)

        offer_ids: set[str] = set()

        async def offers_settled() -> Counter[str] | None:
            offered = [e for e in await events(system.infra.kafka or "", "assignments")
                       if e.subject in ours and e.type.endswith("assignment.offered.v1")]
            unique = {e.id: e for e in offered}
            offer_ids.update(unique)
            per_case = Counter(e.subject for e in unique.values())
            return per_case if len(per_case) == BURST else None

        per_case = await eventually(offers_settled, timeout=60, what="offers on the topic")
        assert set(per_case.values()) == {1}, "a case got two distinct offers"

        # notify sends other messages too (acknowledgements, ...): count the offers' own
        async def deliveries_done() -> bool:
            n = await _count(db, "SELECT count(*) FROM notify.deliveries WHERE"
                             " source_event_id = ANY($1::text[]) AND status = 'sent'",
                             list(offer_ids))
            return n == BURST

        await eventually(deliveries_done, timeout=60, what="one notification per offer")
        dupes = await _count(db, "SELECT count(*) FROM (SELECT case_id FROM notify.deliveries"
                             " WHERE source_event_id = ANY($1::text[]) GROUP BY case_id"
                             " HAVING count(*) > 1) d", list(offer_ids))
        assert dupes == 0
        inbox_dupes = await _count(db, "SELECT count(*) FROM (SELECT event_id FROM matcher.inbox"
                                   " GROUP BY event_id HAVING count(*) > 1) d")
        assert inbox_dupes == 0
    finally:
        await db.close()
