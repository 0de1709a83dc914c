"""Which data model each CloudEvent type carries, and on which topic it travels."""

from __future__ import annotations

from pydantic import BaseModel

from ..envelope import full_type
from ..topics import Topic
from .assignments import (
    AssignmentChanged,
    AssignmentOffered,
    CaseOpinionReady,
    CaseUnmatched,
)
from .cases import CaseClosed, CaseOpened, CaseRejected, CaseUpdated
from .notifications import NotificationOutcome
from .sla import SlaStarted, SlaStep
from .specialist_actions import AssignmentAccept, AssignmentDecline, OpinionSubmit
from .submissions import Submission

EVENTS: dict[str, tuple[Topic, type[BaseModel]]] = {
    "case.submitted": (Topic.CASE_SUBMISSIONS, Submission),
    "case.opened": (Topic.CASES, CaseOpened),
    "case.rejected": (Topic.CASES, CaseRejected),
    "case.updated": (Topic.CASES, CaseUpdated),
    "case.closed": (Topic.CASES, CaseClosed),
    "assignment.accept": (Topic.SPECIALIST_ACTIONS, AssignmentAccept),
    "assignment.decline": (Topic.SPECIALIST_ACTIONS, AssignmentDecline),
    "opinion.submit": (Topic.SPECIALIST_ACTIONS, OpinionSubmit),
    "assignment.offered": (Topic.ASSIGNMENTS, AssignmentOffered),
    "assignment.accepted": (Topic.ASSIGNMENTS, AssignmentChanged),
    "assignment.declined": (Topic.ASSIGNMENTS, AssignmentChanged),
    "assignment.expired": (Topic.ASSIGNMENTS, AssignmentChanged),
    "assignment.completed": (Topic.ASSIGNMENTS, AssignmentChanged),
    "assignment.released": (Topic.ASSIGNMENTS, AssignmentChanged),
    "case.opinion_ready": (Topic.ASSIGNMENTS, CaseOpinionReady),
    "case.unmatched": (Topic.ASSIGNMENTS, CaseUnmatched),
    "sla.started": (Topic.SLA_EVENTS, SlaStarted),
    "sla.paused": (Topic.SLA_EVENTS, SlaStep),
    "sla.resumed": (Topic.SLA_EVENTS, SlaStep),
    "sla.warning": (Topic.SLA_EVENTS, SlaStep),
    "sla.escalated": (Topic.SLA_EVENTS, SlaStep),
    "sla.breached": (Topic.SLA_EVENTS, SlaStep),
    "sla.met": (Topic.SLA_EVENTS, SlaStep),
    "sla.acceptance_expired": (Topic.SLA_EVENTS, SlaStep),
    "notification.sent": (Topic.NOTIFICATIONS, NotificationOutcome),
    "notification.failed": (Topic.NOTIFICATIONS, NotificationOutcome),
}


def short_type(event_type: str) -> str | None:
    """`org.oncoroute.case.opened.v1` -> `case.opened`; None for a foreign or unknown type."""
    for short in EVENTS:
        if event_type == full_type(short):
            return short
    return None


def model_for(short: str) -> type[BaseModel]:
    return EVENTS[short][1]


def topic_for(short: str) -> Topic:
    return EVENTS[short][0]
