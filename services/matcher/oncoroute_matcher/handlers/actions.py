"""What reviewers, sla and operators do to an assignment: accept, decline, submit the
opinion, let it expire, release or reassign it. Each runs under the case's row lock."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from oncoroute_shared.contracts.assignments import (
    AssignmentChanged,
    CaseOpinionReady,
    SeatOutcome,
)
from oncoroute_shared.messaging.outbox import emit
from oncoroute_shared.metrics import TIME_TO_ACCEPTANCE

from ..adapters import roster, seats
from ..domain.lifecycle import (
    EVENT,
    Action,
    LifecycleError,
    Status,
    frees_capacity,
    next_status,
    seat_status_after,
)

SOURCE = "oncoroute/matcher"
log = logging.getLogger("oncoroute.matcher.actions")


class ActionRefused(Exception):
    """The action cannot be done; `kind` says why (not_found, forbidden, conflict)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Opinion:
    diagnosis: str
    treatment_plan: str
    summary: str
    report_uri: str


async def act(conn: asyncpg.Connection, assignment_id: str, action: Action, now: datetime, *,
              reviewer_id: str | None = None, reason: str | None = None,
              opinion: Opinion | None = None) -> asyncpg.Record:
    """Apply `action`; `reviewer_id`, when given, must be the assignment's reviewer."""
    found = await seats.assignment(conn, assignment_id)
    if found is None:
        raise ActionRefused("not_found", f"no assignment {assignment_id}")
    if reviewer_id is not None and found["specialist_id"] != reviewer_id:
        raise ActionRefused("forbidden", f"assignment {assignment_id} is not offered to "
                                         f"{reviewer_id}")
    await seats.lock_case(conn, found["case_id"])
    current = await seats.assignment(conn, assignment_id)  # as of the lock
    assert current is not None
    try:
        await transition(conn, current, action, now, reason=reason, opinion=opinion)
    except LifecycleError as exc:
        raise ActionRefused("conflict", f"assignment {assignment_id}: {exc}") from None
    updated = await seats.assignment(conn, assignment_id)
    assert updated is not None
    return updated


async def transition(conn: asyncpg.Connection, a: asyncpg.Record, action: Action,
                     now: datetime, *, reason: str | None = None,
                     opinion: Opinion | None = None) -> Status:
    """Move one assignment (its case already locked), free capacity, set the seat, emit."""
    after = next_status(a["status"], action)
    values: dict[str, Any] = {"reason": reason} if reason is not None else {}
    if after is Status.ACCEPTED:
        values["accepted_at"] = now
        tier = await conn.fetchval("SELECT tier FROM cases WHERE case_id = $1", a["case_id"])
        TIME_TO_ACCEPTANCE.labels(tier or "unknown").observe(
            max((now - a["offered_at"]).total_seconds(), 0.0))
    if after is Status.COMPLETED:
        assert opinion is not None
        values.update(completed_at=now, diagnosis=opinion.diagnosis,
                      treatment_plan=opinion.treatment_plan, summary=opinion.summary,
                      report_uri=opinion.report_uri)
    await seats.set_assignment(conn, a["assignment_id"], after.value, now, **values)
    if frees_capacity(a["status"], after):
        await roster.free_capacity(conn, [a["specialist_id"]])
        await seats.wake_dispatcher(conn)  # freed capacity may serve a waiting seat
    await seats.set_seat(conn, a["case_id"], a["seat"], seat_status_after(after), now)
    await emit(conn, EVENT[after], source=SOURCE, case_id=a["case_id"],
               data=AssignmentChanged(assignment_id=a["assignment_id"], case_id=a["case_id"],
                                      seat=a["seat"], reviewer_id=a["specialist_id"],
                                      reason=reason, at=now))
    log.info("assignment %s of case %s: %s -> %s", a["assignment_id"], a["case_id"],
             a["status"], after.value)
    if after is Status.COMPLETED:
        await _opinion_ready_when_complete(conn, a["case_id"], now)
    return after


async def _opinion_ready_when_complete(conn: asyncpg.Connection, case_id: str,
                                       now: datetime) -> None:
    panel = await seats.seats_of(conn, case_id)
    if not panel or any(s["status"] != "completed" for s in panel):
        return
    done = await seats.completed(conn, case_id)
    await seats.update_case(conn, case_id, now, status="opinion_ready")
    await emit(conn, "case.opinion_ready", source=SOURCE, case_id=case_id,
               data=CaseOpinionReady(case_id=case_id, seats=[
                   SeatOutcome(seat=d["seat"], reviewer_id=d["specialist_id"],
                               diagnosis=d["diagnosis"], treatment_plan=d["treatment_plan"],
                               report_uri=d["report_uri"], summary=d["summary"],
                               completed_at=d["completed_at"]) for d in done]))
    log.info("case %s: opinion ready (%d seats)", case_id, len(done))


async def expire(conn: asyncpg.Connection, assignment_id: str, now: datetime) -> bool:
    """sla's acceptance timer ran out. A timer that lost the race with an answer is stale."""
    try:
        await act(conn, assignment_id, Action.EXPIRE, now,
                  reason="no answer within the acceptance timeout")
    except ActionRefused as exc:
        if exc.kind == "not_found":
            raise
        log.info("stale acceptance timer for %s: %s", assignment_id, exc)
        return False
    return True
