"""What happens when intake opens, updates or closes a case."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg

from oncoroute_shared.contracts.cases import CaseClosed, CaseOpened, CaseUpdated
from oncoroute_shared.envelope import CloudEvent

from ..adapters import seats
from ..domain.lifecycle import Action
from ..domain.panel import MatchingConfig, seats_for
from .actions import transition

log = logging.getLogger("oncoroute.matcher.cases")
AWAITING = "awaiting_records"


async def on_case_opened(conn: asyncpg.Connection, _event: CloudEvent, case: CaseOpened,
                         cfg: MatchingConfig, now: datetime | None = None) -> None:
    """Record the case and its panel's seats; the dispatcher offers them (woken on commit)."""
    now = now or datetime.now(UTC)
    sub, cls = case.submission, case.classification
    facts = seats.CaseFacts(
        case_id=case.case_id, tier=cls.tier, fast_progressing=cls.fast_progressing,
        tumor_group=cls.tumor_group, icd10=sub.diagnosis.icd10,
        patient_region=sub.patient.country,
        report_language=getattr(sub, "report_language", None),
        first_opinion_physician=sub.first_opinion.physician_id,
        first_opinion_institution=sub.first_opinion.institution,
        opened_at=case.opened_at, deadline=cfg.deadline(cls.tier, case.opened_at),
        routable=case.status != AWAITING,
    )
    if not await seats.create_case(conn, facts, now):
        return
    plans = seats_for(cfg.policy, cls.tumor_group, sub.reasons, [r.kind for r in sub.records])
    for plan in plans:
        await seats.create_seat(conn, facts, plan, now)
    await seats.wake_dispatcher(conn)
    log.info("case %s: %d seats (%s)", case.case_id, len(plans),
             ", ".join(p.seat for p in plans))


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
