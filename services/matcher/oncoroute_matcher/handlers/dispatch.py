"""Offer waiting seats to the best eligible reviewers, or say why nobody is eligible.

Runs in the caller's transaction (the dispatcher's: up to 16 seats, in queue order), under
the cases' row locks; capacity is taken with a conditional update, so any number of matcher
processes can dispatch at once.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from enum import StrEnum

import asyncpg
from opentelemetry import context as otel_context
from opentelemetry import propagate

from oncoroute_shared.contracts.assignments import AssignmentOffered, CaseUnmatched, Reviewer
from oncoroute_shared.messaging.outbox import emit, outbox_row
from oncoroute_shared.metrics import TIME_TO_FIRST_OFFER

from ..adapters import roster, seats
from ..domain.panel import MatchingConfig
from ..domain.ranking import SeatNeed, choose, ineligibility
from ..domain.reasons import describe
from ..domain.roster import Specialist

SOURCE = "oncoroute/matcher"
log = logging.getLogger("oncoroute.matcher.dispatch")


class Outcome(StrEnum):
    OFFERED = "offered"
    UNMATCHED = "unmatched"
    BUSY = "busy"  # another process holds the case; it will see the seat
    SKIPPED = "skipped"  # not waiting, or the case is closed or awaiting records


def need_for(case: asyncpg.Record, seat: asyncpg.Record, cfg: MatchingConfig,
             excluded: frozenset[str]) -> SeatNeed:
    """The seat's hard requirements, with the policy's switches applied."""
    return SeatNeed(
        case_id=case["case_id"], seat=seat["seat"], role=seat["role"],
        tumor_group=case["tumor_group"],
        first_opinion_physician=case["first_opinion_physician"],
        first_opinion_institution=(case["first_opinion_institution"]
                                   if cfg.policy.independent_institution else None),
        excluded=excluded, roles=frozenset(seat["roles"]), icd10=case["icd10"],
        require_expert=seat["require_expert"], fast_progressing=case["fast_progressing"],
        patient_region=case["patient_region"] if cfg.policy.licensed_region else None,
        report_language=case["report_language"], deadline=case["deadline"],
        review_time=cfg.review_time(case["tier"]),
    )


def _window_end(need: SeatNeed, now: datetime) -> datetime:
    return max(need.deadline or now, now + timedelta(seconds=1))


async def dispatch_seat(conn: asyncpg.Connection, case_id: str, seat_name: str,
                        cfg: MatchingConfig, now: datetime, *,
                        skip_locked: bool = True) -> Outcome:
    [outcome] = await dispatch_seats(conn, [(case_id, seat_name)], cfg, now,
                                     skip_locked=skip_locked)
    return outcome


async def dispatch_seats(conn: asyncpg.Connection, wanted: list[tuple[str, str]],
                         cfg: MatchingConfig, now: datetime, *,
                         skip_locked: bool = True) -> list[Outcome]:
    """Offer each (case id, seat), in the list's order, in the caller's transaction: the
    cases locked and the seats read in one statement each for them all, then each seat's
    candidates and offer. A reviewer offered one seat here is on the case for the next."""
    cases = await seats.lock_cases(conn, sorted({c for c, _ in wanted}), skip_locked)
    rows = await seats.seats_to_dispatch(conn, wanted)
    on_case: dict[str, set[str]] = {c: set() for c, _ in wanted}  # offered by this call
    outcomes = []
    for case_id, name in wanted:
        case, seat = cases.get(case_id), rows.get((case_id, name))
        if case is None:
            outcomes.append(Outcome.BUSY)
        elif (seat is None or seat["status"] != "waiting" or case["status"] != "open"
              or not case["routable"]):
            outcomes.append(Outcome.SKIPPED)
        else:
            token = otel_context.attach(propagate.extract(seat["trace_context"] or {}))
            try:  # the offer continues the trace of the event that created the seat
                outcomes.append(await _dispatch(conn, case, seat, cfg, now, on_case[case_id]))
            finally:
                otel_context.detach(token)
    return outcomes


async def _dispatch(conn: asyncpg.Connection, case: asyncpg.Record, seat: asyncpg.Record,
                    cfg: MatchingConfig, now: datetime, offered: set[str]) -> Outcome:
    """`offered`: reviewers offered another seat of the case since `seat` was read; the one
    chosen here is added."""
    need = need_for(case, seat, cfg, frozenset(seat["on_case"]) | offered)
    pool, leave = await roster.candidates_with_leave(conn, need, now, _window_end(need, now))
    while pool:
        choice = choose(pool, need, now, leave)
        chosen = choice.specialist
        if chosen is None:
            break
        if await _offer(conn, need, case, chosen, choice.finishes_in_time, now,
                        first=seat["offers"] == 0):
            offered.add(chosen.id)
            return Outcome.OFFERED
        pool = [s for s in pool if s.id != chosen.id]  # another process took the last slot
    await _unmatched(conn, need, case, now)
    return Outcome.UNMATCHED


async def offer_to(conn: asyncpg.Connection, case_id: str, seat_name: str,
                   specialist_id: str, cfg: MatchingConfig, now: datetime) -> str | None:
    """An operator's choice for a waiting seat (case already locked): the hard rules still
    hold. Returns why not, or None once offered."""
    case = await seats.lock_case(conn, case_id)
    seat = await seats.seat_to_dispatch(conn, case_id, seat_name)
    s = await roster.get(conn, specialist_id)
    if case is None or seat is None or seat["status"] != "waiting":
        return "the seat is not waiting"
    if s is None:
        return "unknown specialist"
    need = need_for(case, seat, cfg, frozenset(seat["on_case"]))
    leave = await roster.leave(conn, [s.id], now, _window_end(need, now))
    why = ineligibility(s, need, now, leave.get(s.id, ()))
    if why is not None:
        return why
    if not await _offer(conn, need, case, s, None, now, first=seat["offers"] == 0):
        return "at_capacity"
    return None


async def _offer(conn: asyncpg.Connection, need: SeatNeed, case: asyncpg.Record,
                 chosen: Specialist, in_time: bool | None, now: datetime, *,
                 first: bool) -> bool:
    """Offer the seat to `chosen` if they still have a free slot (False if another process
    took it first): the slot, the assignment, the seat and the event in one statement."""
    assignment_id = str(uuid.uuid4())
    role = next((r for r in sorted(need.roles) if r in chosen.roles),
                chosen.roles[0] if chosen.roles else need.role)
    event = outbox_row("assignment.offered", source=SOURCE, case_id=need.case_id,
                       data=AssignmentOffered(
                           assignment_id=assignment_id, case_id=need.case_id, seat=need.seat,
                           role=role, roles=sorted(need.roles), tumor_group=need.tumor_group,
                           tier=case["tier"], fast_progressing=need.fast_progressing,
                           deadline=need.deadline, finishes_in_time=in_time,
                           reviewer=Reviewer(id=chosen.id, name=chosen.name,
                                             email=chosen.email, phone=chosen.phone,
                                             max_active=chosen.max_active),
                           offered_at=now))
    if not await seats.offer_if_capacity(conn, assignment_id, need.case_id, need.seat,
                                         chosen.id, now, event):
        return False
    log.info("offered case %s seat %s to %s", need.case_id, need.seat, chosen.id)
    if first:
        TIME_TO_FIRST_OFFER.labels(case["tier"]).observe(
            max((now - case["opened_at"]).total_seconds(), 0.0))
    return True


async def _unmatched(conn: asyncpg.Connection, need: SeatNeed, case: asyncpg.Record,
                     now: datetime) -> None:
    if need.tumor_group is None:
        reasons = {"unclassified_case": 1}
    else:
        group = await roster.in_group(conn, need.tumor_group)
        leave = await roster.leave(conn, [s.id for s in group], now, _window_end(need, now))
        reasons = choose(group, need, now, leave).reasons or {"no_specialist_in_group": 1}
    if await seats.mark_unmatched(conn, need.case_id, need.seat, reasons, now):
        seat = await seats.seat(conn, need.case_id, need.seat)
        await emit(conn, "case.unmatched", source=SOURCE, case_id=need.case_id,
                   data=CaseUnmatched(
                       case_id=need.case_id, seat=need.seat, role=need.role,
                       tumor_group=need.tumor_group, reasons=reasons, summary=describe(reasons),
                       tier=case["tier"],
                       waiting_since=seat["unmatched_since"] if seat else now))
        log.info("case %s seat %s unmatched: %s", need.case_id, need.seat, sorted(reasons))
