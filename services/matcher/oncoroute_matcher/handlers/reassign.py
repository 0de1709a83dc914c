"""An operator takes a seat from its reviewer and gives it to another (or the next best)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from ..adapters import seats
from ..domain.lifecycle import LIVE, Action
from ..domain.panel import MatchingConfig
from .actions import ActionRefused, transition
from .dispatch import Outcome, dispatch_seat, offer_to


async def reassign(conn: asyncpg.Connection, assignment_id: str, cfg: MatchingConfig,
                   now: datetime, *, reason: str, to: str | None = None) -> dict[str, object]:
    """Release the assignment; offer the seat to `to` (hard rules still hold) or to the next
    best. The previous reviewer is never offered the case again."""
    found = await seats.assignment(conn, assignment_id)
    if found is None:
        raise ActionRefused("not_found", f"no assignment {assignment_id}")
    case = await seats.lock_case(conn, found["case_id"])
    current = await seats.assignment(conn, assignment_id)
    assert current is not None and case is not None
    if current["status"] not in LIVE or case["status"] != "open":
        raise ActionRefused("conflict", f"assignment {assignment_id} is {current['status']}; "
                                        "only offered or accepted ones can be reassigned")
    await transition(conn, current, Action.RELEASE, now, reason=f"reassigned: {reason}")
    if to is not None:
        why = await offer_to(conn, current["case_id"], current["seat"], to, cfg, now)
        if why is not None:
            raise ActionRefused("conflict", f"{to} cannot take this seat: {why}")
        outcome = Outcome.OFFERED
    else:
        outcome = await dispatch_seat(conn, current["case_id"], current["seat"], cfg, now,
                                      skip_locked=False)
    seat = await seats.seat(conn, current["case_id"], current["seat"])
    live = await seats.live_assignments(conn, current["case_id"])
    new = next((a for a in live if a["seat"] == current["seat"]), None)
    return {"released": assignment_id, "outcome": outcome.value,
            "seat_status": seat["status"] if seat else None,
            "assignment_id": new["assignment_id"] if new else None,
            "reviewer_id": new["specialist_id"] if new else None}
