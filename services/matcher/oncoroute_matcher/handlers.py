"""What happens when a case opens: create its seats and offer each to the best reviewer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from oncoroute_shared.contracts.assignments import AssignmentOffered, CaseUnmatched, Reviewer
from oncoroute_shared.contracts.cases import CaseOpened
from oncoroute_shared.envelope import CloudEvent
from oncoroute_shared.messaging.outbox import emit

from .adapters import roster, seats
from .domain.panel import MatchingPolicy, seats_for
from .domain.ranking import SeatNeed, choose

SOURCE = "oncoroute/matcher"


async def on_case_opened(conn: asyncpg.Connection, _event: CloudEvent, case: CaseOpened,
                         policy: MatchingPolicy, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    first = case.submission.first_opinion
    for rule in seats_for(policy):
        need = SeatNeed(case.case_id, rule.seat, rule.role, case.classification.tumor_group,
                        first.physician_id, first.institution)
        if await seats.create_seat(conn, need, case.classification.tier, now):
            await fill_seat(conn, need, case.classification.tier, now)


async def fill_seat(conn: asyncpg.Connection, need: SeatNeed, tier: str, now: datetime) -> bool:
    """Offer the seat to the best eligible reviewer, or say why nobody is eligible."""
    candidates = await roster.candidates_for_update(conn, need.tumor_group)
    excluded = await seats.excluded_for(conn, need.case_id, need.seat)
    need = SeatNeed(**{**need.__dict__, "excluded": excluded})
    choice = choose(candidates, need)
    if choice.specialist is None:
        await emit(conn, "case.unmatched", source=SOURCE, case_id=need.case_id,
                   data=CaseUnmatched(case_id=need.case_id, seat=need.seat, role=need.role,
                                      tumor_group=need.tumor_group,
                                      reasons=choice.reasons or {"no_specialist_in_group": 1}))
        return False
    chosen = choice.specialist
    assignment_id = str(uuid.uuid4())
    await seats.offer(conn, assignment_id, need, chosen.id, now)
    await roster.take_capacity(conn, chosen.id, now)
    await emit(conn, "assignment.offered", source=SOURCE, case_id=need.case_id,
               data=AssignmentOffered(
                   assignment_id=assignment_id, case_id=need.case_id, seat=need.seat,
                   role=need.role, tumor_group=need.tumor_group, tier=tier,
                   reviewer=Reviewer(id=chosen.id, name=chosen.name, email=chosen.email),
                   offered_at=now))
    return True
