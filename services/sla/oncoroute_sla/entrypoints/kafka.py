"""Sla's subscriptions: intake's case events and the matcher's assignment events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from oncoroute_shared.envelope import CloudEvent
from oncoroute_shared.messaging.consumer import Batched, Handler, Subscription
from oncoroute_shared.runtime import Runtime
from oncoroute_shared.topics import Topic

from ..handlers import assignments, batches, board, cases

ANSWERS = {"assignment.accepted": "accepted", "assignment.declined": "declined",
           "assignment.completed": "completed", "assignment.expired": "expired",
           "assignment.released": "released"}


def subscriptions(runtime: Runtime) -> list[Subscription]:
    def policy() -> Any:
        return runtime.state["policy"]

    def now() -> datetime:
        return datetime.now(UTC)

    async def opened(conn: asyncpg.Connection, event: CloudEvent, data: Any) -> None:
        await cases.on_case_opened(conn, event, data, policy(), now())
        await board.on_case_opened(conn, event, data)

    async def updated(conn: asyncpg.Connection, event: CloudEvent, data: Any) -> None:
        await cases.on_case_updated(conn, event, data, policy(), now())

    async def closed(conn: asyncpg.Connection, event: CloudEvent, data: Any) -> None:
        await cases.on_case_closed(conn, event, data, now())

    async def offered(conn: asyncpg.Connection, event: CloudEvent, data: Any) -> None:
        await assignments.on_offered(conn, event, data, policy(), now())
        await board.on_offered(conn, event, data)

    async def unmatched(conn: asyncpg.Connection, event: CloudEvent, data: Any) -> None:
        await board.on_unmatched(conn, event, data, now())

    def answered(status: str) -> Handler:
        async def handle(conn: asyncpg.Connection, event: CloudEvent, data: Any) -> None:
            await assignments.on_answered(conn, event, data, status, now())
        return handle

    async def opinion(conn: asyncpg.Connection, event: CloudEvent, data: Any) -> None:
        await assignments.on_opinion_ready(conn, event, data, now())

    async def case_batch(conn: asyncpg.Connection, items: list[Batched]) -> list[Batched]:
        return await batches.on_case_events(conn, items, policy(), now())

    async def assignment_batch(conn: asyncpg.Connection,
                               items: list[Batched]) -> list[Batched]:
        return await batches.on_assignment_events(conn, items, policy(), now())

    # Background: clocks run from the events' own times (opened, offered, answered), so
    # taking them in batches up to half a second later moves no deadline
    return [
        Subscription(Topic.CASES, {"case.opened": opened, "case.updated": updated,
                                   "case.closed": closed}, background=True,
                     batch_handler=case_batch),
        Subscription(Topic.ASSIGNMENTS, {
            "assignment.offered": offered, "case.opinion_ready": opinion,
            "case.unmatched": unmatched,
            **{short: answered(status) for short, status in ANSWERS.items()}},
            background=True, batch_handler=assignment_batch),
    ]
