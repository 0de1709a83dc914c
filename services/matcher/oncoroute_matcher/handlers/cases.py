"""What happens when intake opens, updates or closes a case."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg
from opentelemetry import propagate

from oncoroute_shared.contracts.cases import CaseClosed, CaseOpened, CaseUpdated
from oncoroute_shared.envelope import CloudEvent

from ..adapters import seats
from ..domain.lifecycle import Action
from ..domain.panel import MatchingConfig, SeatPlan, seats_for
from .actions import transition

log = logging.getLogger("oncoroute.matcher.cases")
AWAITING = "awaiting_records"


def facts_of(case: CaseOpened, cfg: MatchingConfig) -> seats.CaseFacts:
    """What the matcher keeps of an opened case."""
    sub, cls = case.submission, case.classification
    return seats.CaseFacts(
        case_id=case.case_id, tier=cls.tier, fast_progressing=cls.fast_progressing,
        tumor_group=cls.tumor_group, icd10=sub.diagnosis.icd10,
        patient_region=sub.patient.country,
        report_language=getattr(sub, "report_language", None),
        first_opinion_physician=sub.first_opinion.physician_id,
        first_opinion_institution=sub.first_opinion.institution,
        opened_at=case.opened_at, deadline=cfg.deadline(cls.tier, case.opened_at),
        routable=case.status != AWAITING,
    )


async def on_case_opened(conn: asyncpg.Connection, _event: CloudEvent, case: CaseOpened,
                         cfg: MatchingConfig, now: datetime | None = None) -> None:
    """Record the case and its panel's seats; the dispatcher offers them (woken on commit).
    The seats carry the current trace: the offers continue it."""
    trace: dict[str, str] = {}
    propagate.inject(trace)
    await open_cases(conn, [(case, trace)], cfg, now or datetime.now(UTC))


async def open_cases(conn: asyncpg.Connection, opened: list[tuple[CaseOpened, dict[str, str]]],
                     cfg: MatchingConfig, now: datetime) -> None:
    """Cases opened, each with the trace its seats carry, in three statements: a case stored
    before (a redelivery) changes nothing."""
    facts = {case.case_id: facts_of(case, cfg) for case, _ in opened}
    created = await seats.create_cases(conn, list(facts.values()), now)
    if not created:
        return
    rows: list[tuple[seats.CaseFacts, SeatPlan, dict[str, str]]] = []
    for case, trace in opened:
        if case.case_id in created:
            sub = case.submission
            plans = seats_for(cfg.policy, case.classification.tumor_group, sub.reasons,
                              [r.kind for r in sub.records])
            rows += [(facts[case.case_id], plan, trace) for plan in plans]
            log.info("case %s: %d seats (%s)", case.case_id, len(plans),
                     ", ".join(p.seat for p in plans))
    if rows:
        await seats.create_seats(conn, rows, now)
    await seats.wake_dispatcher(conn)


async def on_case_updated(conn: asyncpg.Connection, _event: CloudEvent, update: CaseUpdated,
                          now: datetime | None = None) -> None:
    """Records arrived: a case that was awaiting them may now be routed."""
    now = now or datetime.now(UTC)
    case = await seats.lock_case(conn, update.case_id)
    if case is None or update.status == AWAITING or case["routable"]:
        return
    await seats.update_case(conn, update.case_id, now, routable=True)
    await seats.wake_dispatcher(conn)


async def on_case_closed(conn: asyncpg.Connection, _event: CloudEvent, closed: CaseClosed,
                         now: datetime | None = None) -> None:
    """A closed case releases every seat: live offers and accepted reviews end, capacity
    frees, and nothing more is offered."""
    now = now or datetime.now(UTC)
    case = await seats.lock_case(conn, closed.case_id)
    if case is None or case["status"] == "closed":
        return
    for a in await seats.live_assignments(conn, closed.case_id):
        await transition(conn, a, Action.RELEASE, now, reason=f"case {closed.reason}")
    await seats.update_case(conn, closed.case_id, now, status="closed")
    await conn.execute("UPDATE seats SET status = 'released', updated_at = $2"
                       " WHERE case_id = $1 AND status <> 'completed'", closed.case_id, now)
    log.info("case %s closed (%s): seats released", closed.case_id, closed.reason)
