"""Who hears what for each event: the rules, not the words (templates hold those). Pure.

Each rule gets the event's data, notify's copy of the case (None only for events that need
none), the case's offers and a `Plan` context, and returns the messages to send.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from oncoroute_shared.contracts.assignments import (
    AssignmentChanged,
    AssignmentOffered,
    CaseOpinionReady,
    CaseUnmatched,
)
from oncoroute_shared.contracts.cases import CaseClosed, CaseOpened, CaseUpdated
from oncoroute_shared.contracts.notifications import CaseStatusWebhook
from oncoroute_shared.contracts.sla import SlaStep

from . import audiences as who
from .facts import CaseFacts, Offer
from .links import Links
from .messages import Message, Recipient, Words, address
from .policy import NotifyPolicy, Urgency


@dataclass(frozen=True)
class Plan:
    policy: NotifyPolicy
    links: Links
    event_id: str
    occurred_at: datetime


def when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def case_ref(case_id: str) -> str:
    """A short reference people can quote; the full id is in links."""
    return case_id.replace("-", "")[:8].upper()


def urgency_of(policy: NotifyPolicy, kind: str, tier: str | None,
               level: str | None = None) -> Urgency:
    high = policy.high_urgency
    if tier in high.tiers or kind in high.events or (level is not None and level in high.levels):
        return "high"
    return "low"


def _base(case_id: str, links: Links) -> dict[str, Any]:
    return {"case_id": case_id, "case_ref": case_ref(case_id), "case_url": links.case(case_id)}


def webhook(case: CaseFacts, plan: Plan, status: str, reason: str | None = None,
            missing: list[str] | None = None) -> list[Message]:
    """The submitting system hears of every status change (no clinical content)."""
    body = CaseStatusWebhook(
        case_id=case.case_id, source=case.source, external_id=case.external_id, status=status,
        reason=reason, missing_records=missing or [], occurred_at=plan.occurred_at,
        event_id=plan.event_id, case_url=plan.links.case(case.case_id))
    words = Words("case_status_webhook",
                  {"payload": body.model_dump(mode="json"), "source": case.source})
    return address(words, who.submitting_system(case))


def case_opened(data: CaseOpened, case: CaseFacts | None, offers: list[Offer],
                plan: Plan) -> list[Message]:
    assert case is not None
    ctx = {**_base(case.case_id, plan.links), "missing_records": list(data.missing_records),
           "records_url": plan.links.records(case.case_id), "external_id": case.external_id,
           "status": data.status}
    return [*address(Words("patient_request_received", ctx), who.patient(case)),
            *address(Words("physician_case_received", ctx), who.physicians(case)),
            *webhook(case, plan, data.status, missing=list(data.missing_records))]


def case_updated(data: CaseUpdated, case: CaseFacts | None, offers: list[Offer],
                 plan: Plan) -> list[Message]:
    assert case is not None
    if data.status == case.status and data.missing_records == case.missing_records:
        return []
    return webhook(case, plan, data.status, missing=list(data.missing_records))


def case_closed(data: CaseClosed, case: CaseFacts | None, offers: list[Offer],
                plan: Plan) -> list[Message]:
    assert case is not None
    out = webhook(case, plan, "closed", reason=data.reason)
    if data.reason != "completed":  # reviewers still holding a seat are told to stop
        for offer in offers:
            out += withdrawal(offer.case_id, offer.assignment_id, offer.seat, data.reason,
                              who.reviewers([offer]), plan)
    return out


def withdrawal(case_id: str, assignment_id: str, seat: str, reason: str,
               recipients: list[Recipient], plan: Plan) -> list[Message]:
    """Once per offer, whichever event says so first (case.closed, .released, .expired)."""
    ctx = {**_base(case_id, plan.links), "seat": seat, "reason": reason}
    return address(Words("specialist_withdrawal", ctx, once_per=f"withdrawal:{assignment_id}"),
                   recipients)


def assignment_offered(data: AssignmentOffered, case: CaseFacts | None, offers: list[Offer],
                       plan: Plan) -> list[Message]:
    accept, decline, expires = plan.links.offer(data.assignment_id, data.reviewer.id,
                                                data.offered_at)
    ctx = {**_base(data.case_id, plan.links), "seat": data.seat, "tier": data.tier,
           "accept_url": accept, "decline_url": decline, "expires_at": when(expires),
           "assignment_url": plan.links.assignment(data.assignment_id)}
    urgency = urgency_of(plan.policy, "assignment.offered", data.tier)
    reviewer = who.specialist(data.reviewer.name, data.reviewer.email, data.reviewer.phone,
                              who.paging(plan.policy, urgency))
    return address(Words("specialist_offer", ctx, urgency), [reviewer])


def assignment_accepted(data: AssignmentChanged, case: CaseFacts | None, offers: list[Offer],
                        plan: Plan) -> list[Message]:
    assert case is not None
    ctx = {**_base(case.case_id, plan.links), "seat": data.seat}
    return [*address(Words("patient_reviewer_assigned", ctx), who.patient(case)),
            *webhook(case, plan, "in_review")]


def assignment_expired(data: AssignmentChanged, case: CaseFacts | None, offers: list[Offer],
                       plan: Plan) -> list[Message]:
    return withdrawal(data.case_id, data.assignment_id, data.seat, "expired",
                      who.reviewers(offers, assignment_id=data.assignment_id), plan)


def assignment_released(data: AssignmentChanged, case: CaseFacts | None, offers: list[Offer],
                        plan: Plan) -> list[Message]:
    """The case was withdrawn or an operator moved the seat to someone else."""
    return withdrawal(data.case_id, data.assignment_id, data.seat, "released",
                      who.reviewers(offers, assignment_id=data.assignment_id), plan)


def opinion_ready(data: CaseOpinionReady, case: CaseFacts | None, offers: list[Offer],
                  plan: Plan) -> list[Message]:
    assert case is not None
    base = _base(case.case_id, plan.links)
    outcomes = [{"seat": s.seat, "diagnosis": s.diagnosis, "treatment_plan": s.treatment_plan,
                 "report_uri": s.report_uri} for s in data.seats]
    return [*address(Words("patient_opinion_ready", base), who.patient(case)),
            *address(Words("physician_opinion_ready",
                           {**base, "external_id": case.external_id, "outcomes": outcomes}),
                     who.physicians(case)),
            *webhook(case, plan, "opinion_ready")]


def case_unmatched(data: CaseUnmatched, case: CaseFacts | None, offers: list[Offer],
                   plan: Plan) -> list[Message]:
    assert case is not None
    urgency = urgency_of(plan.policy, "case.unmatched", case.tier)
    ctx = {**_base(case.case_id, plan.links), "seat": data.seat, "tier": case.tier,
           "tumor_group": case.tumor_group, "reasons": dict(data.reasons)}
    words = Words("staff_case_unmatched", ctx, urgency)
    return address(words, who.tumor_group_leads(case, plan.policy, urgency)
                   + who.operators(plan.policy, urgency))


# sla steps: (audience kind, step) -> template. Combinations not listed send nothing (the
# reviewer whose offer expired hears of it from `assignment.expired`, as a withdrawal).
_KIND = {"reviewers": "specialist", "tumor_group_lead": "staff", "operators_on_call": "staff",
         "referring_physician": "physician"}
SLA_TEMPLATES = {
    ("specialist", "sla.warning"): "specialist_sla_warning",
    ("specialist", "sla.escalated"): "specialist_sla_escalated",
    ("specialist", "sla.breached"): "specialist_sla_breached",
    ("staff", "sla.warning"): "staff_sla_warning",
    ("staff", "sla.escalated"): "staff_sla_escalated",
    ("staff", "sla.breached"): "staff_sla_breached",
    ("staff", "sla.acceptance_expired"): "staff_acceptance_expired",
    ("physician", "records"): "physician_records_reminder",
}


def sla_step(kind: str) -> Rule:
    def rule(data: SlaStep, case: CaseFacts | None, offers: list[Offer],
             plan: Plan) -> list[Message]:
        assert case is not None
        urgency = urgency_of(plan.policy, kind, case.tier, data.level)
        narrow = {"assignment_id": data.assignment_id, "reviewer_id": data.reviewer_id,
                  "seat": data.seat}
        ctx = {**_base(case.case_id, plan.links), "step": data.step, "level": data.level,
               "tier": case.tier, "tumor_group": case.tumor_group, "seat": data.seat,
               "external_id": case.external_id, "missing_records": case.missing_records,
               "deadline": when(data.deadline) if data.deadline else None,
               "assignment_url": plan.links.assignment(data.assignment_id)
               if data.assignment_id else None}
        out: list[Message] = []
        for audience in data.audience:
            resolve = who.STEP_AUDIENCES.get(audience)
            group = _KIND.get(audience)
            step = "records" if "records" in data.step and group == "physician" else kind
            template = SLA_TEMPLATES.get((group or "", step))
            if resolve is None or template is None:
                continue
            recipients = resolve(case, offers, plan.policy, urgency, narrow)
            out += address(Words(template, ctx, urgency), recipients)
        return out

    return rule


Rule = Callable[[Any, CaseFacts | None, list[Offer], Plan], list[Message]]
RULES: dict[str, Rule] = {
    "case.opened": case_opened,
    "case.updated": case_updated,
    "case.closed": case_closed,
    "assignment.offered": assignment_offered,
    "assignment.accepted": assignment_accepted,
    "assignment.expired": assignment_expired,
    "assignment.released": assignment_released,
    "case.opinion_ready": opinion_ready,
    "case.unmatched": case_unmatched,
    "sla.warning": sla_step("sla.warning"),
    "sla.escalated": sla_step("sla.escalated"),
    "sla.breached": sla_step("sla.breached"),
    "sla.acceptance_expired": sla_step("sla.acceptance_expired"),
}
# Events that only change notify's copy of the case (no message of their own).
STATE_ONLY = ("assignment.declined", "assignment.completed")
# Events whose rule needs no copy of the case (everything else waits for case.opened).
CASE_NOT_NEEDED = ("assignment.offered", "assignment.expired", "assignment.released",
                   *STATE_ONLY)


def plan_messages(kind: str, data: BaseModel, case: CaseFacts | None, offers: list[Offer],
                  plan: Plan) -> list[Message]:
    rule = RULES.get(kind)
    return rule(data, case, offers, plan) if rule else []


def delivery_failed(failed: dict[str, Any], policy: NotifyPolicy, links: Links) -> list[Message]:
    """Operators hear of a delivery that gave up (but not of a failed alert about one)."""
    if failed["template"] == "staff_delivery_failed":
        return []
    urgency: Urgency = "high" if failed["urgency"] == "high" else "low"
    ctx = {**_base(failed["case_id"], links),
           "delivery_id": failed["delivery_id"], "failed_channel": failed["channel"],
           "failed_audience": failed["audience"], "failed_template": failed["template"],
           "error": failed["error"]}
    return address(Words("staff_delivery_failed", ctx, urgency), who.operators(policy, urgency))
