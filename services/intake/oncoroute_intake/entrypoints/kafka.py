"""Intake's subscriptions: submissions in, other services' events onto timelines."""

from __future__ import annotations

from typing import Any

import asyncpg

from oncoroute_shared.contracts.cases import Problem
from oncoroute_shared.envelope import CloudEvent
from oncoroute_shared.messaging.consumer import Subscription
from oncoroute_shared.runtime import Runtime
from oncoroute_shared.topics import Topic

from .. import handlers
from ..domain.validation import check_submission

TIMELINE_TYPES = {
    Topic.ASSIGNMENTS: ("assignment.offered", "assignment.accepted", "assignment.declined",
                        "assignment.expired", "assignment.completed", "case.opinion_ready",
                        "case.unmatched"),
    Topic.SLA_EVENTS: ("sla.started", "sla.paused", "sla.resumed", "sla.warning",
                       "sla.escalated", "sla.breached", "sla.met", "sla.acceptance_expired"),
    Topic.NOTIFICATIONS: ("notification.sent", "notification.failed"),
}


def subscriptions(runtime: Runtime) -> list[Subscription]:
    def rules() -> handlers.Rules:
        return runtime.state["rules"]  # type: ignore[no-any-return]

    async def on_submitted(conn: asyncpg.Connection, event: CloudEvent, _data: Any) -> None:
        await handlers.on_submitted(conn, event, rules())

    async def on_invalid(conn: asyncpg.Connection, event: CloudEvent,
                         schema_problems: list[dict[str, str]]) -> None:
        # the schema problems plus intake's own checks, so the sender sees every problem
        _sub, problems = check_submission(event.data, rules().is_valid_code)
        await handlers.reject(conn, event, problems or [Problem(**p) for p in schema_problems])

    subs = [Subscription(Topic.CASE_SUBMISSIONS, {"case.submitted": on_submitted},
                         on_invalid=on_invalid)]
    for topic, types in TIMELINE_TYPES.items():
        subs.append(Subscription(topic, dict.fromkeys(types, handlers.record_on_timeline)))
    return subs
