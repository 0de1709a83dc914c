"""SQL for cases, seats and assignments (matcher's schema only).

Every change to a case's seats happens under the case row's lock (`lock_case`), so two
matcher processes never work on one case at the same time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from oncoroute_shared.messaging.outbox import OutboxRow

from ..domain.panel import SeatPlan

WAKE_SQL = "SELECT pg_notify(current_schema() || '_dispatch', '')"


@dataclass(frozen=True)
class CaseFacts:
    case_id: str
    tier: str
    fast_progressing: bool
    tumor_group: str | None
    icd10: str | None
    patient_region: str | None
    report_language: str | None
    first_opinion_physician: str | None
    first_opinion_institution: str | None
    opened_at: datetime
    deadline: datetime
    routable: bool


async def wake_dispatcher(conn: asyncpg.Connection) -> None:
    """Delivered on commit: every matcher process retries waiting seats."""
    await conn.execute(WAKE_SQL)


async def create_cases(conn: asyncpg.Connection, cases: list[CaseFacts],
                       now: datetime) -> set[str]:
    """The cases not stored before, in one statement; returns the ids of those created."""
    created = await conn.fetch(
        """INSERT INTO cases (case_id, tier, fast_progressing, tumor_group, icd10,
               patient_region, report_language, first_opinion_physician,
               first_opinion_institution, opened_at, deadline, routable, updated_at)
           SELECT *, $13::timestamptz FROM unnest($1::text[], $2::text[], $3::bool[],
               $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
               $10::timestamptz[], $11::timestamptz[], $12::bool[])
           ON CONFLICT DO NOTHING RETURNING case_id""",
        *([getattr(c, name) for c in cases] for name in _CASE_COLUMNS), now)
    return {r["case_id"] for r in created}


_CASE_COLUMNS = ("case_id", "tier", "fast_progressing", "tumor_group", "icd10",
                 "patient_region", "report_language", "first_opinion_physician",
                 "first_opinion_institution", "opened_at", "deadline", "routable")


async def lock_case(conn: asyncpg.Connection, case_id: str,
                    skip_locked: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM cases WHERE case_id = $1 FOR UPDATE"
        + (" SKIP LOCKED" if skip_locked else ""), case_id)


async def lock_cases(conn: asyncpg.Connection, case_ids: list[str],
                     skip_locked: bool = False) -> dict[str, asyncpg.Record]:
    """`lock_case` for several cases in one statement (in id order, as every locker of
    several cases must); with `skip_locked`, those another transaction holds are left out."""
    rows = await conn.fetch(
        "SELECT * FROM cases WHERE case_id = ANY($1::text[]) ORDER BY case_id FOR UPDATE"
        + (" SKIP LOCKED" if skip_locked else ""), case_ids)
    return {r["case_id"]: r for r in rows}


async def update_case(conn: asyncpg.Connection, case_id: str, now: datetime,
                      **values: Any) -> None:
    cols = ", ".join(f"{k} = ${i}" for i, k in enumerate(values, start=3))
    await conn.execute(f"UPDATE cases SET updated_at = $2, {cols} WHERE case_id = $1",
                       case_id, now, *values.values())


_SEP = "\x1f"  # between a seat's roles in `create_seats` (no role name holds it)


async def create_seats(conn: asyncpg.Connection,
                       seats: list[tuple[CaseFacts, SeatPlan, dict[str, str]]],
                       now: datetime) -> int:
    """Waiting seats (case, plan, trace context) not stored before, in one statement;
    returns how many were created. (Each seat's roles travel as one string: an array
    parameter cannot hold arrays of different lengths.)"""
    return len(await conn.fetch(
        """INSERT INTO seats (case_id, seat, role, roles, require_expert, tumor_group, tier,
               fast_progressing, deadline, status, first_opinion_physician,
               first_opinion_institution, created_at, updated_at, trace_context)
           SELECT u.case_id, u.seat, u.role, string_to_array(u.roles, chr(31)),
                  u.expert, u.tumor_group, u.tier, u.fast, u.deadline, 'waiting',
                  u.physician, u.institution, $12, $12, u.trace
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bool[],
                       $6::text[], $7::text[], $8::bool[], $9::timestamptz[], $10::text[],
                       $11::text[], $13::jsonb[])
                AS u(case_id, seat, role, roles, expert, tumor_group, tier, fast, deadline,
                     physician, institution, trace)
           ON CONFLICT DO NOTHING RETURNING 1""",
        [c.case_id for c, _, _ in seats], [p.seat for _, p, _ in seats],
        [p.role_label for _, p, _ in seats], [_SEP.join(sorted(p.roles)) for _, p, _ in seats],
        [p.require_expert for _, p, _ in seats], [c.tumor_group for c, _, _ in seats],
        [c.tier for c, _, _ in seats], [c.fast_progressing for c, _, _ in seats],
        [c.deadline for c, _, _ in seats], [c.first_opinion_physician for c, _, _ in seats],
        [c.first_opinion_institution for c, _, _ in seats], now,
        [t for _, _, t in seats]))


async def seat(conn: asyncpg.Connection, case_id: str, name: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM seats WHERE case_id = $1 AND seat = $2",
                               case_id, name)


async def seat_to_dispatch(conn: asyncpg.Connection, case_id: str,
                           name: str) -> asyncpg.Record | None:
    """The seat (case already locked), with everyone ever offered a seat of the case
    (`on_case`) and how many offers this seat has had (`offers`), in one round trip."""
    return (await seats_to_dispatch(conn, [(case_id, name)])).get((case_id, name))


async def seats_to_dispatch(conn: asyncpg.Connection,
                            wanted: list[tuple[str, str]]) -> dict[tuple[str, str], asyncpg.Record]:
    """`seat_to_dispatch` for several (case id, seat) in one round trip."""
    rows = await conn.fetch(
        "SELECT s.*, ARRAY(SELECT a.specialist_id FROM assignments a"
        "                  WHERE a.case_id = s.case_id) AS on_case,"
        " (SELECT count(*) FROM assignments a WHERE a.case_id = s.case_id"
        "  AND a.seat = s.seat) AS offers"
        " FROM unnest($1::text[], $2::text[]) AS w(case_id, seat)"
        " JOIN seats s ON s.case_id = w.case_id AND s.seat = w.seat",
        [c for c, _ in wanted], [n for _, n in wanted])
    return {(r["case_id"], r["seat"]): r for r in rows}


async def seats_of(conn: asyncpg.Connection, case_id: str) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM seats WHERE case_id = $1 ORDER BY created_at, seat",
                            case_id)


async def set_seat(conn: asyncpg.Connection, case_id: str, name: str, status: str,
                   now: datetime) -> None:
    await conn.execute(
        "UPDATE seats SET status = $3, updated_at = $4,"
        " unmatched_reasons = CASE WHEN $3 = 'waiting' THEN unmatched_reasons END,"
        " unmatched_since = CASE WHEN $3 = 'waiting' THEN unmatched_since END"
        " WHERE case_id = $1 AND seat = $2", case_id, name, status, now)


async def mark_unmatched(conn: asyncpg.Connection, case_id: str, name: str,
                         reasons: dict[str, int], now: datetime) -> bool:
    """Record why nobody fits; True when the reasons changed (worth a new event)."""
    changed = await conn.fetchval(
        "UPDATE seats SET unmatched_reasons = $3::jsonb,"
        " unmatched_since = coalesce(unmatched_since, $4), updated_at = $4"
        " WHERE case_id = $1 AND seat = $2"
        " AND unmatched_reasons IS DISTINCT FROM $3::jsonb RETURNING true",
        case_id, name, reasons, now)
    return bool(changed)


# A waiting seat's case, looked up seat by seat (LIMIT keeps the planner from turning it
# into a join): with the statistics stale after a burst, before autovacuum has analysed the
# tables, a join read every case for every waiting seat (200 ms a sweep at 2,000 cases).
CASE_OF_SEAT = ("CROSS JOIN LATERAL (SELECT c.tier, c.status, c.routable FROM cases c"
                " WHERE c.case_id = s.case_id LIMIT 1) AS c")
QUEUE_ORDER = "s.fast_progressing DESC, s.deadline, s.created_at, s.case_id, s.seat"


async def waiting(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Waiting seats of routable open cases: fast-progressing first, then the soonest
    deadline, then the oldest."""
    return await conn.fetch(
        f"SELECT s.case_id, s.seat FROM seats s {CASE_OF_SEAT}"
        f" WHERE s.status = 'waiting' AND c.status = 'open' AND c.routable"
        f" ORDER BY {QUEUE_ORDER} LIMIT $1", limit)


async def queue(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT s.case_id, s.seat, s.role, s.tier, s.tumor_group, s.fast_progressing,"
        " s.deadline, s.created_at, s.unmatched_reasons, s.unmatched_since, c.routable"
        f" FROM seats s {CASE_OF_SEAT} WHERE s.status = 'waiting' AND c.status = 'open'"
        f" ORDER BY {QUEUE_ORDER} LIMIT $1", limit)


async def offer_if_capacity(conn: asyncpg.Connection, assignment_id: str, case_id: str,
                            name: str, specialist_id: str, now: datetime,
                            event: OutboxRow) -> bool:
    """Take one of the reviewer's free slots and, only if one was free, record the offer,
    mark the seat offered and queue `event`: one statement, one round trip. The capacity
    check runs under the reviewer's row lock, so concurrent matchers never overbook."""
    return bool(await conn.fetchval(
        f"""WITH taken AS (
               UPDATE specialists SET active_count = active_count + 1, last_assigned_at = $5
               WHERE id = $4 AND active AND active_count < max_active RETURNING id),
           offer AS (
               INSERT INTO assignments (assignment_id, case_id, seat, specialist_id, status,
                                        offered_at, updated_at)
               SELECT $1, $2, $3, id, 'offered', $5, $5 FROM taken),
           seat AS (
               UPDATE seats SET status = 'offered', unmatched_reasons = NULL,
                   unmatched_since = NULL, updated_at = $5
               WHERE case_id = $2 AND seat = $3 AND EXISTS (SELECT 1 FROM taken)),
           event AS ({event.insert_if("taken", 6)})
           SELECT EXISTS (SELECT 1 FROM taken)""",
        assignment_id, case_id, name, specialist_id, now, *event.args))


async def assignment(conn: asyncpg.Connection, assignment_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM assignments WHERE assignment_id = $1",
                               assignment_id)


async def live_assignments(conn: asyncpg.Connection, case_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM assignments WHERE case_id = $1 AND status IN ('offered', 'accepted')"
        " ORDER BY specialist_id", case_id)


async def set_assignment(conn: asyncpg.Connection, assignment_id: str, status: str,
                         now: datetime, **values: Any) -> None:
    extra = "".join(f", {k} = ${i}" for i, k in enumerate(values, start=4))
    await conn.execute(
        f"UPDATE assignments SET status = $2, updated_at = $3{extra} WHERE assignment_id = $1",
        assignment_id, status, now, *values.values())


async def assignments_of(conn: asyncpg.Connection, specialist_id: str,
                         statuses: Iterable[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT a.*, c.tier, c.deadline, c.tumor_group FROM assignments a"
        " JOIN cases c ON c.case_id = a.case_id WHERE a.specialist_id = $1"
        " AND a.status = ANY($2::text[]) ORDER BY a.offered_at DESC LIMIT 500",
        specialist_id, list(statuses))


async def completed(conn: asyncpg.Connection, case_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM assignments WHERE case_id = $1 AND status = 'completed'"
        " ORDER BY seat", case_id)
