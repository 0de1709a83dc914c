"""SQL behind the operator board: what the clocks alone do not say (a case's source, who holds
each seat, the seats nobody could take) and the board's read queries.

Standing (on track / at risk / breached / paused) is the read API's arithmetic, reused as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from .readmodel import _JUDGED

# Clock steps an operator watches in the feed (not acceptance timers or records reminders).
FEED_STEPS = ("warning:%", "escalation:%", "breach", "expedite")


@dataclass(frozen=True)
class BoardFilters:
    tier: str | None = None
    tumor_group: str | None = None
    standing: str | None = None
    source: str | None = None
    limit: int = 200


# --- what the board learns from events ---------------------------------------------------

async def record_source(conn: asyncpg.Connection, case_id: str, source: str) -> None:
    await conn.execute("UPDATE clocks SET source = $2 WHERE case_id = $1"
                       " AND source IS DISTINCT FROM $2", case_id, source)


async def record_reviewer(conn: asyncpg.Connection, assignment_id: str, case_id: str, seat: str,
                          tumor_group: str | None, name: str, max_active: int | None) -> None:
    """The offer's details and that its seat is no longer unmatched."""
    await conn.execute(
        "UPDATE offers SET tumor_group = $2, reviewer_name = $3, max_active = $4"
        " WHERE assignment_id = $1", assignment_id, tumor_group, name, max_active)
    await conn.execute("DELETE FROM unmatched_seats WHERE case_id = $1 AND seat = $2",
                       case_id, seat)


async def seats_taken(conn: asyncpg.Connection, seats: list[tuple[str, str]]) -> None:
    """Several `(case id, seat)` no longer unmatched, in one statement."""
    if seats:
        await conn.execute(
            "DELETE FROM unmatched_seats u USING unnest($1::text[], $2::text[]) AS s(c, seat)"
            " WHERE u.case_id = s.c AND u.seat = s.seat",
            [c for c, _ in seats], [seat for _, seat in seats])


async def record_unmatched(conn: asyncpg.Connection, case_id: str, seat: str, tier: str | None,
                           tumor_group: str | None, reasons: dict[str, int],
                           summary: str | None, since: datetime, at: datetime) -> None:
    await conn.execute(
        """INSERT INTO unmatched_seats (case_id, seat, tier, tumor_group, reasons, summary,
                                        since, updated_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)
           ON CONFLICT (case_id, seat) DO UPDATE SET reasons = EXCLUDED.reasons,
               summary = EXCLUDED.summary, updated_at = EXCLUDED.updated_at""",
        case_id, seat, tier, tumor_group, reasons, summary, since, at)


# --- what the board reads ----------------------------------------------------------------

_LAST_STEP = """(
    SELECT jsonb_build_object('step', t.step, 'at', t.fired_at) FROM timers t
    WHERE t.case_id = j.case_id AND t.fired_at IS NOT NULL
      AND (t.step LIKE 'warning:%' OR t.step LIKE 'escalation:%'
           OR t.step IN ('breach', 'expedite'))
    ORDER BY t.fired_at DESC, t.step LIMIT 1)"""

_SEATS = """coalesce((
    SELECT jsonb_agg(s ORDER BY s->>'seat') FROM (
        SELECT DISTINCT ON (o.seat) jsonb_build_object(
                   'seat', o.seat, 'reviewer_id', o.reviewer_id, 'name', o.reviewer_name,
                   'status', o.status) AS s
        FROM offers o WHERE o.case_id = j.case_id ORDER BY o.seat, o.offered_at DESC
    ) latest), '[]'::jsonb)"""

_UNMATCHED = """coalesce((
    SELECT jsonb_agg(u.seat ORDER BY u.seat) FROM unmatched_seats u
    WHERE u.case_id = j.case_id), '[]'::jsonb)"""


async def open_cases(conn: asyncpg.Connection, at_risk_at: float,
                     f: BoardFilters) -> tuple[int, list[dict[str, Any]]]:
    rows = await conn.fetch(
        f"""{_JUDGED}
        SELECT j.*, c.source, count(*) OVER () AS total, {_SEATS} AS seats,
               {_UNMATCHED} AS unmatched, {_LAST_STEP} AS last_step
        FROM judged j JOIN clocks c USING (case_id)
        WHERE ($2::text IS NULL OR j.tier = $2) AND ($3::text IS NULL OR j.tumor_group = $3)
          AND ($4::text IS NULL OR j.standing = $4) AND ($5::text IS NULL OR c.source = $5)
        ORDER BY j.remaining ASC, j.case_id LIMIT $6""",
        at_risk_at, f.tier, f.tumor_group, f.standing, f.source, f.limit)
    return (rows[0]["total"] if rows else 0), [
        {"case_id": r["case_id"], "tier": r["tier"], "tumor_group": r["tumor_group"],
         "source": r["source"], "status": r["case_status"], "clock": r["state"],
         "state": r["standing"], "deadline": r["deadline"],
         "remaining_seconds": round(r["remaining"], 1),
         "turnaround_seconds": r["turnaround_seconds"], "seats": r["seats"],
         "unmatched_seats": r["unmatched"], "last_escalation": r["last_step"]}
        for r in rows]


async def choices(conn: asyncpg.Connection) -> dict[str, list[str]]:
    """Tumour groups and sources of open cases, for the filters."""
    rows = await conn.fetch(
        """SELECT array_remove(array_agg(DISTINCT tumor_group), NULL) AS groups,
                  array_remove(array_agg(DISTINCT source), NULL) AS sources
           FROM clocks WHERE state IN ('waiting', 'running', 'paused')""")
    return {"tumor_groups": sorted(rows[0]["groups"] or []),
            "sources": sorted(rows[0]["sources"] or [])}


async def unmatched(conn: asyncpg.Connection, limit: int = 50) -> list[dict[str, Any]]:
    """Seats nobody could take, of cases still open (or not yet opened here), oldest first."""
    rows = await conn.fetch(
        """SELECT u.* FROM unmatched_seats u LEFT JOIN clocks c USING (case_id)
           WHERE c.case_id IS NULL OR c.state IN ('waiting', 'running', 'paused')
           ORDER BY u.since, u.case_id, u.seat LIMIT $1""", limit)
    return [{"case_id": r["case_id"], "seat": r["seat"], "tier": r["tier"],
             "tumor_group": r["tumor_group"], "reasons": r["reasons"],
             "summary": r["summary"], "since": r["since"]} for r in rows]


async def workload(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Live offers and accepted reviews per reviewer and tumour group, with the capacity the
    matcher last reported for the reviewer (None: not reported)."""
    rows = await conn.fetch(
        """WITH live AS (
               SELECT reviewer_id, coalesce(tumor_group, 'unclassified') AS tumor_group,
                      count(*) FILTER (WHERE status = 'offered') AS offered,
                      count(*) FILTER (WHERE status = 'accepted') AS accepted
               FROM offers WHERE status IN ('offered', 'accepted')
               GROUP BY reviewer_id, coalesce(tumor_group, 'unclassified'))
           SELECT l.*, k.reviewer_name AS name, k.max_active FROM live l
           LEFT JOIN LATERAL (
               SELECT o.reviewer_name, o.max_active FROM offers o
               WHERE o.reviewer_id = l.reviewer_id ORDER BY o.offered_at DESC LIMIT 1) k ON true
           ORDER BY l.tumor_group, l.offered + l.accepted DESC, l.reviewer_id""")
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["tumor_group"], []).append({
            "reviewer_id": r["reviewer_id"], "name": r["name"], "offered": r["offered"],
            "accepted": r["accepted"], "active": r["offered"] + r["accepted"],
            "max_active": r["max_active"]})
    return [{"tumor_group": g, "reviewers": rs} for g, rs in groups.items()]


async def feed(conn: asyncpg.Connection, limit: int = 40) -> list[dict[str, Any]]:
    """The latest warnings, escalations, breaches and expedites, newest first."""
    rows = await conn.fetch(
        """SELECT t.case_id, t.step, t.fired_at, c.tier, c.tumor_group FROM timers t
           LEFT JOIN clocks c USING (case_id)
           WHERE t.fired_at IS NOT NULL AND (t.step LIKE ANY ($1::text[]))
           ORDER BY t.fired_at DESC, t.case_id, t.step LIMIT $2""", list(FEED_STEPS), limit)
    return [{"case_id": r["case_id"], "step": r["step"], "at": r["fired_at"],
             "tier": r["tier"], "tumor_group": r["tumor_group"]} for r in rows]


async def breaches_since(conn: asyncpg.Connection, seconds: float) -> int:
    return int(await conn.fetchval(
        "SELECT count(*) FROM timers WHERE step = 'breach'"
        " AND fired_at >= now() - make_interval(secs => $1)", seconds) or 0)
