"""Intake's subscriptions: submissions in, other services' events onto timelines."""

from __future__ import annotations

from typing import Any

import asyncpg

from oncoroute_shared.contracts.cases import Problem
from oncoroute_shared.contracts.registry import EVENTS
from oncoroute_shared.envelope import CloudEvent
from oncoroute_shared.messaging.consumer import Batched, Subscription
from oncoroute_shared.runtime import Runtime
from oncoroute_shared.topics import Topic

from .. import handlers
from ..domain.validation import check_submission

# Every event of these topics goes on its case's timeline, including types added later.
TIMELINE_TOPICS = (Topic.ASSIGNMENTS, Topic.SLA_EVENTS, Topic.NOTIFICATIONS)


def timeline_types(topic: Topic) -> list[str]:
    return sorted(short for short, (on, _model) in EVENTS.items() if on == topic)


def subscriptions(runtime: Runtime) -> list[Subscription]:
    def rules() -> handlers.Rules:
        return runtime.state["rules"]  # type: ignore[no-any-return]

    async def on_submitted(conn: asyncpg.Connection, event: CloudEvent, data: Any) -> None:
        await handlers.on_submitted(conn, event, rules(), data)

    async def submitted_batch(conn: asyncpg.Connection, items: list[Batched]) -> list[Batched]:
        return await handlers.open_submitted(conn, items, rules())

    async def on_invalid(conn: asyncpg.Connection, event: CloudEvent,
                         schema_problems: list[dict[str, str]]) -> None:
        # the schema problems plus intake's own checks, so the sender sees every problem
        _sub, problems = check_submission(event.data, rules().is_valid_code)
        await handlers.reject(conn, event, problems or [Problem(**p) for p in schema_problems])

    subs = [Subscription(Topic.CASE_SUBMISSIONS, {"case.submitted": on_submitted},
                         on_invalid=on_invalid, batch_handler=submitted_batch)]
    for topic in TIMELINE_TOPICS:
        subs.append(Subscription(topic, dict.fromkeys(timeline_types(topic),
                                                      handlers.record_on_timeline),
                                 batch_handler=handlers.record_all_on_timeline,
                                 background=True))  # a record, on no case's path
    return subs
