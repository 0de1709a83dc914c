"""Queries behind the read API: open clocks, one clock's history, the summary.

A clock's standing is computed in SQL so that lists filter, sort and page in the database;
it is the same arithmetic as `domain.clock.standing` (an integration test holds them together).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg

_JUDGED = """
WITH open AS (
    SELECT case_id, tier, tumor_group, case_status, state, opened_at, started_at, deadline,
           turnaround_seconds,
           (CASE state WHEN 'running' THEN extract(epoch FROM deadline - now())
                       WHEN 'paused' THEN extract(epoch FROM deadline - paused_at)
                       ELSE turnaround_seconds END)::float8 AS remaining
    FROM clocks WHERE state IN ('waiting', 'running', 'paused')
), judged AS (
    SELECT *, CASE WHEN remaining <= 0 THEN 'breached'
                   WHEN state <> 'running' THEN 'paused'
                   WHEN remaining <= (1 - $1::float8) * turnaround_seconds THEN 'at_risk'
                   ELSE 'on_track' END AS standing
    FROM open
)"""

_REVIEWERS = """coalesce((
    SELECT jsonb_agg(jsonb_build_object('reviewer_id', o.reviewer_id, 'seat', o.seat,
                                        'status', o.status) ORDER BY o.offered_at)
    FROM offers o WHERE o.case_id = j.case_id
      AND o.status IN ('offered', 'accepted', 'completed')), '[]'::jsonb)"""


@dataclass(frozen=True)
class Filters:
    tier: str | None = None
    tumor_group: str | None = None
    standing: str | None = None
    status: str | None = None
    soonest_first: bool = True
    limit: int = 100
    offset: int = 0


def _case(r: asyncpg.Record) -> dict[str, Any]:
    return {"case_id": r["case_id"], "tier": r["tier"], "tumor_group": r["tumor_group"],
            "status": r["case_status"], "clock": r["state"], "state": r["standing"],
            "opened_at": r["opened_at"], "started_at": r["started_at"],
            "deadline": r["deadline"], "time_remaining_seconds": round(r["remaining"], 3),
            "turnaround_seconds": r["turnaround_seconds"], "reviewers": r["reviewers"]}


async def open_cases(conn: asyncpg.Connection, at_risk_at: float,
                     f: Filters) -> tuple[int, list[dict[str, Any]]]:
    order = "ASC" if f.soonest_first else "DESC"
    rows = await conn.fetch(
        f"""{_JUDGED}
        SELECT j.*, count(*) OVER () AS total, {_REVIEWERS} AS reviewers FROM judged j
        WHERE ($2::text IS NULL OR tier = $2) AND ($3::text IS NULL OR tumor_group = $3)
          AND ($4::text IS NULL OR standing = $4) AND ($5::text IS NULL OR case_status = $5)
        ORDER BY remaining {order}, case_id LIMIT $6 OFFSET $7""",
        at_risk_at, f.tier, f.tumor_group, f.standing, f.status, f.limit, f.offset)
    return (rows[0]["total"] if rows else 0), [_case(r) for r in rows]


async def one_case(conn: asyncpg.Connection, at_risk_at: float,
                   case_id: str) -> dict[str, Any] | None:
    clock = await conn.fetchrow(
        f"""{_JUDGED}, anyclock AS (
            SELECT c.case_id, c.tier, c.tumor_group, c.case_status, c.state, c.opened_at,
                   c.started_at, c.deadline, c.turnaround_seconds,
                   coalesce(j.remaining, 0) AS remaining, j.standing, c.stopped_at, c.on_time,
                   c.actual_turnaround_seconds, c.paused_seconds
            FROM clocks c LEFT JOIN judged j USING (case_id) WHERE c.case_id = $2)
        SELECT j.*, {_REVIEWERS} AS reviewers FROM anyclock j""", at_risk_at, case_id)
    if clock is None:
        return None
    timers = await conn.fetch(
        "SELECT step, due_at, fired_at, extract(epoch FROM fired_at - due_at)::float8 AS late"
        " FROM timers WHERE case_id = $1 ORDER BY coalesce(fired_at, due_at), step", case_id)
    history = await conn.fetch(
        "SELECT at, what, detail FROM clock_history WHERE case_id = $1 ORDER BY id", case_id)
    case = _case(clock) | {
        "stopped_at": clock["stopped_at"], "on_time": clock["on_time"],
        "actual_turnaround_seconds": clock["actual_turnaround_seconds"],
        "paused_seconds": clock["paused_seconds"]}
    fired = [{"at": t["fired_at"], "what": "fired", "step": t["step"], "due_at": t["due_at"],
              "lateness_seconds": max(round(t["late"], 3), 0.0)}
             for t in timers if t["fired_at"] is not None]
    events = [{"at": h["at"], "what": h["what"], **h["detail"]} for h in history]
    case["history"] = sorted(fired + events, key=lambda e: e["at"])
    case["armed"] = [{"step": t["step"], "due_at": t["due_at"]}
                     for t in timers if t["fired_at"] is None]
    return case


async def summary(conn: asyncpg.Connection, at_risk_at: float, window: timedelta,
                  tiers: list[str]) -> dict[str, Any]:
    open_counts = await open_counts_by_tier(conn, at_risk_at, tiers)
    since = "now() - make_interval(secs => $1)"
    breaches = await conn.fetch(
        f"""SELECT c.tier, coalesce(c.tumor_group, 'unclassified') AS tumor_group, count(*) AS n
            FROM timers t JOIN clocks c USING (case_id)
            WHERE t.step = 'breach' AND t.fired_at >= {since}
            GROUP BY GROUPING SETS ((c.tier), (coalesce(c.tumor_group, 'unclassified')))""",
        window.total_seconds())
    met = await conn.fetch(
        f"""SELECT tier, coalesce(tumor_group, 'unclassified') AS tumor_group, count(*) AS n,
                   count(*) FILTER (WHERE on_time) AS on_time,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY actual_turnaround_seconds) AS p50,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY actual_turnaround_seconds) AS p90
            FROM clocks WHERE state = 'met' AND tier <> '' AND stopped_at >= {since}
            GROUP BY GROUPING SETS ((tier), (coalesce(tumor_group, 'unclassified')))""",
        window.total_seconds())
    by_tier = {t: _outcomes() for t in tiers}
    by_group: dict[str, dict[str, Any]] = {}
    for r in breaches:
        key, into = (r["tier"], by_tier) if r["tier"] else (r["tumor_group"], by_group)
        into.setdefault(key, _outcomes())["breaches"] = r["n"]
    for r in met:
        key, into = (r["tier"], by_tier) if r["tier"] else (r["tumor_group"], by_group)
        out = into.setdefault(key, _outcomes())
        out.update(met=r["n"], met_on_time=r["on_time"],
                   met_on_time_rate=round(r["on_time"] / r["n"], 4) if r["n"] else None)
        if r["tier"]:
            out.update(turnaround_p50_seconds=r["p50"], turnaround_p90_seconds=r["p90"])
    for out in by_group.values():
        out.pop("turnaround_p50_seconds", None)
        out.pop("turnaround_p90_seconds", None)
    return {"window_seconds": window.total_seconds(), "open": open_counts,
            "by_tier": by_tier, "by_tumor_group": by_group}


async def open_counts_by_tier(conn: asyncpg.Connection, at_risk_at: float,
                              tiers: list[str]) -> dict[str, dict[str, int]]:
    """Open clocks by tier and standing, every standing present (zeros included)."""
    standings = ("on_track", "at_risk", "breached", "paused")
    counts: dict[str, dict[str, int]] = {t: dict.fromkeys(standings, 0) for t in tiers}
    for r in await conn.fetch(f"{_JUDGED} SELECT tier, standing, count(*) AS n FROM judged"
                              " GROUP BY tier, standing", at_risk_at):
        counts.setdefault(r["tier"], dict.fromkeys(standings, 0))[r["standing"]] = r["n"]
    return counts


async def oldest_without_reviewer(conn: asyncpg.Connection, tiers: list[str]) -> float:
    """Seconds since the oldest open case of `tiers` opened with no accepted reviewer (0: none)."""
    age = await conn.fetchval(
        """SELECT extract(epoch FROM now() - min(c.opened_at))::float8 FROM clocks c
           WHERE c.state IN ('waiting', 'running', 'paused') AND c.tier = ANY($1::text[])
             AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.case_id = c.case_id
                             AND o.status IN ('accepted', 'completed'))""", tiers)
    return max(float(age or 0.0), 0.0)


def _outcomes() -> dict[str, Any]:
    return {"breaches": 0, "met": 0, "met_on_time": 0, "met_on_time_rate": None,
            "turnaround_p50_seconds": None, "turnaround_p90_seconds": None}
