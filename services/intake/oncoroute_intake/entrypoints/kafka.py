"""Intake's subscriptions: submissions in, other services' events onto timelines."""

from __future__ import annotations

from oncoroute_shared.contracts.submissions import Submission
from oncoroute_shared.envelope import CloudEvent
from oncoroute_shared.messaging.consumer import Subscription
from oncoroute_shared.runtime import Runtime
from oncoroute_shared.topics import Topic

from .. import handlers

TIMELINE_TYPES = {
    Topic.ASSIGNMENTS: ("assignment.offered", "assignment.accepted", "assignment.declined",
                        "assignment.expired", "assignment.completed", "case.opinion_ready",
                        "case.unmatched"),
    Topic.SLA_EVENTS: ("sla.started", "sla.paused", "sla.resumed", "sla.warning",
                       "sla.escalated", "sla.breached", "sla.met", "sla.acceptance_expired"),
    Topic.NOTIFICATIONS: ("notification.sent", "notification.failed"),
}


def subscriptions(runtime: Runtime) -> list[Subscription]:
    async def on_submitted(conn, event: CloudEvent, data: Submission) -> None:  # type: ignore[no-untyped-def]
        await handlers.open_case(conn, data, runtime.state["policy"])

    subs = [Subscription(Topic.CASE_SUBMISSIONS, {"case.submitted": on_submitted},
                         on_invalid=handlers.reject_submission)]
    for topic, types in TIMELINE_TYPES.items():
        subs.append(Subscription(topic, dict.fromkeys(types, handlers.record_on_timeline)))
    return subs
