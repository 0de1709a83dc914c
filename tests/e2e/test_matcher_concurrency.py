"""Three matcher processes on the same topics, the real broker and PostgreSQL, a burst of
cases whose panels need more seats than the roster has capacity: nobody is ever pushed over
capacity, no seat is filled twice, and capacity freed by declines (specialist-actions),
expired offers (sla-events) and withdrawn cases (cases) is refilled by whichever process gets
there first."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from oncoroute_shared.embedded.stack import ServiceProcess, wait_ready
from oncoroute_shared.envelope import encode, new_event

from ..support.kafka import events, publish, read_all
from ..support.stack import free_port
from ..support.submissions import submission
from ..support.waiting import eventually
from .conftest import System, isolated_system

pytestmark = pytest.mark.e2e

CASES = 120  # x 2 seats (disease specialist + pathologist) = 240 seats for 60 places
ROSTER = "id,name,email,roles,tumor_groups,max_active,languages,regions,institution,timezone\n" + (
    "".join(f"onc-{i},Dr Onc {i},onc{i}@example.org,medical_oncologist,breast,10,en,GB,"
            f"Inst {i},UTC\n" for i in range(4))
    + "".join(f"path-{i},Dr Path {i},path{i}@example.org,pathologist,breast,10,en,GB,"
              f"Lab {i},UTC\n" for i in range(2)))
CAPACITY = 60


@pytest.fixture(scope="module")
def matchers(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[System]:
    tmp = tmp_path_factory.mktemp("matcher-concurrency")
    logs = artifacts / "logs" / "matcher-concurrency"
    with isolated_system(tmp, logs, roster=ROSTER, services=("matcher",)) as system:
        extra = [ServiceProcess("matcher", free_port(), system.env,
                                logs / f"matcher-{n}.log").start() for n in (2, 3)]
        try:
            wait_ready(extra, deadline_s=120)
            yield system
        finally:
            for svc in extra:
                svc.stop()


def _case_opened(case_id: str) -> bytes:
    doc = submission(reasons=["confirm_diagnosis"])
    return encode(new_event("case.opened", source="test-intake", subject=case_id, data={
        "case_id": case_id, "opened_at": datetime.now(UTC).isoformat(), "status": "ready",
        "classification": {"tier": "standard", "tumor_group": "breast",
                           "fast_progressing": False, "rule": "test"},
        "submission": doc}))


async def _invariants(db: asyncpg.Connection) -> None:
    over = await db.fetch("SELECT s.id, s.active_count, s.max_active, count(a.*) AS live"
                          " FROM matcher.specialists s LEFT JOIN matcher.assignments a"
                          " ON a.specialist_id = s.id AND a.status IN ('offered', 'accepted')"
                          " GROUP BY s.id")
    assert all(r["live"] == r["active_count"] <= r["max_active"] for r in over), over
    doubled = await db.fetchval(
        "SELECT count(*) FROM (SELECT case_id, seat FROM matcher.assignments WHERE status IN"
        " ('offered', 'accepted') GROUP BY case_id, seat HAVING count(*) > 1) d")
    assert doubled == 0
    mismatched = await db.fetchval(
        "SELECT count(*) FROM matcher.seats s WHERE (s.status = 'offered') <> EXISTS ("
        "SELECT 1 FROM matcher.assignments a WHERE a.case_id = s.case_id AND a.seat = s.seat"
        " AND a.status = 'offered')")
    assert mismatched == 0


async def test_several_matchers_never_overfill(matchers: System) -> None:
    kafka = matchers.infra.kafka or ""
    db = await asyncpg.connect(matchers.infra.database_url)
    try:
        ids = [f"conc-{uuid.uuid4().hex[:10]}" for _ in range(CASES)]
        await publish(kafka, "cases", [(cid.encode(), _case_opened(cid)) for cid in ids])

        async def full(expected: int) -> bool:
            live = await db.fetchval("SELECT count(*) FROM matcher.assignments"
                                     " WHERE status = 'offered'")
            seats = await db.fetchval("SELECT count(*) FROM matcher.seats")
            return seats == 2 * CASES and live == expected

        await eventually(lambda: full(CAPACITY), timeout=120, what="every place offered")
        await _invariants(db)
        waiting = await db.fetchval("SELECT count(*) FROM matcher.seats WHERE status = 'waiting'")
        assert waiting == 2 * CASES - CAPACITY

        # every process took part in the burst
        logs = [Path(p.log_path) for p in matchers.services.values()]
        logs += sorted(logs[0].parent.glob("matcher-*.log"))
        offers = [p.read_text().count("offered case") for p in logs]
        assert sum(1 for n in offers if n) >= 2, offers

        # free 20 places at once through Kafka; the three processes refill them
        declined = await db.fetch("SELECT assignment_id, specialist_id, case_id FROM"
                                  " matcher.assignments WHERE status = 'offered'"
                                  " ORDER BY assignment_id LIMIT 20")
        await publish(kafka, "specialist-actions", [(r["case_id"].encode(), encode(new_event(
            "assignment.decline", source="test-client", subject=r["case_id"],
            data={"assignment_id": r["assignment_id"], "specialist_id": r["specialist_id"],
                  "reason": "too busy"}))) for r in declined])

        async def refilled() -> bool:
            n = await db.fetchval("SELECT count(*) FROM matcher.assignments"
                                  " WHERE status = 'declined'")
            return n == 20 and await full(CAPACITY)

        await eventually(refilled, timeout=120, what="declined places refilled")
        await _invariants(db)
        again = await db.fetchval(
            "SELECT count(*) FROM matcher.assignments a JOIN matcher.assignments d"
            " ON d.case_id = a.case_id AND d.specialist_id = a.specialist_id"
            " AND d.status = 'declined' AND a.assignment_id <> d.assignment_id")
        assert again == 0, "a decliner was offered the case again"

        # sla's acceptance timers run out for 5 offers, and intake closes 5 cases
        expiring = await db.fetch("SELECT assignment_id, specialist_id, case_id, seat FROM"
                                  " matcher.assignments WHERE status = 'offered'"
                                  " ORDER BY assignment_id LIMIT 5")
        now = datetime.now(UTC).isoformat()
        await publish(kafka, "sla-events", [(r["case_id"].encode(), encode(new_event(
            "sla.acceptance_expired", source="test-sla", subject=r["case_id"], data={
                "case_id": r["case_id"], "tier": "standard", "step": "acceptance",
                "assignment_id": r["assignment_id"], "seat": r["seat"],
                "reviewer_id": r["specialist_id"], "fired_at": now}))) for r in expiring])
        closing = [r["case_id"] for r in await db.fetch(
            "SELECT DISTINCT case_id FROM matcher.assignments WHERE status = 'offered'"
            " AND case_id <> ALL($1::text[]) ORDER BY case_id LIMIT 5",
            [r["case_id"] for r in expiring])]
        await publish(kafka, "cases", [(cid.encode(), encode(new_event(
            "case.closed", source="test-intake", subject=cid,
            data={"case_id": cid, "reason": "withdrawn"}))) for cid in closing])

        async def settled() -> bool:
            expired = await db.fetchval("SELECT count(*) FROM matcher.assignments"
                                        " WHERE status = 'expired'")
            live_closed = await db.fetchval(
                "SELECT count(*) FROM matcher.assignments WHERE case_id = ANY($1::text[])"
                " AND status IN ('offered', 'accepted')", closing)
            return expired == 5 and live_closed == 0 and await full(CAPACITY)

        await eventually(settled, timeout=120, what="expired and released places refilled")
        await _invariants(db)
        released = await db.fetchval("SELECT count(*) FROM matcher.assignments"
                                     " WHERE status = 'released'")

        offered = [e for e in await events(kafka, "assignments")
                   if e.type.endswith("assignment.offered.v1")]
        per_seat = Counter((e.data["case_id"], e.data["seat"]) for e in
                           {e.id: e for e in offered}.values())
        # each freed place was offered again exactly once
        assert sum(per_seat.values()) == CAPACITY + 20 + 5 + released
        assert max(per_seat.values()) <= 3
        dead = [r for r in await read_all(kafka, "dead-letters")
                if dict(r.headers).get("x-dead-letter-consumer", b"").startswith(b"matcher")]
        assert dead == []
    finally:
        await db.close()
