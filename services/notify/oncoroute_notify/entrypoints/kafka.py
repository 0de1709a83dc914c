"""Notify's subscriptions: every event that may mean a message, on three topics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from oncoroute_shared.envelope import CloudEvent
from oncoroute_shared.messaging.consumer import Batched, Handler, Subscription
from oncoroute_shared.runtime import Runtime
from oncoroute_shared.topics import Topic

from ..handlers import batches, events

TOPICS: dict[Topic, tuple[str, ...]] = {
    Topic.CASES: ("case.opened", "case.updated", "case.closed"),
    Topic.ASSIGNMENTS: ("assignment.offered", "assignment.accepted", "assignment.declined",
                        "assignment.expired", "assignment.completed", "assignment.released",
                        "case.opinion_ready", "case.unmatched"),
    Topic.SLA_EVENTS: ("sla.warning", "sla.escalated", "sla.breached",
                       "sla.acceptance_expired"),
}
BATCHED = (Topic.CASES, Topic.ASSIGNMENTS)  # what `batches` plans together: opened, offered


def subscriptions(runtime: Runtime) -> list[Subscription]:
    async def handle(conn: asyncpg.Connection, event: CloudEvent, data: Any) -> None:
        await events.on_event(conn, event, data, runtime.state["deps"], datetime.now(UTC))

    async def handle_batch(conn: asyncpg.Connection, items: list[Batched]) -> list[Batched]:
        return await batches.on_batch(conn, items, runtime.state["deps"], datetime.now(UTC))

    handler: Handler = handle
    return [Subscription(topic, dict.fromkeys(kinds, handler),
                         batch_handler=handle_batch if topic in BATCHED else None)
            for topic, kinds in TOPICS.items()]
