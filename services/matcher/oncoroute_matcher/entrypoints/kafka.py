"""Matcher's subscriptions: cases, reviewers' actions and sla's acceptance timers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from oncoroute_shared.contracts.sla import SlaStep
from oncoroute_shared.contracts.specialist_actions import (
    AssignmentAccept,
    AssignmentDecline,
    OpinionSubmit,
)
from oncoroute_shared.envelope import CloudEvent
from oncoroute_shared.messaging.consumer import Batched, PermanentError, Subscription
from oncoroute_shared.runtime import Runtime
from oncoroute_shared.topics import Topic

from .. import handlers
from ..domain.lifecycle import Action
from ..handlers import batches


def subscriptions(runtime: Runtime) -> list[Subscription]:
    def cfg() -> Any:
        return runtime.state["config"]

    async def on_opened(conn, event, case) -> None:  # type: ignore[no-untyped-def]
        await handlers.on_case_opened(conn, event, case, cfg())

    async def on_updated(conn, event, update) -> None:  # type: ignore[no-untyped-def]
        await handlers.on_case_updated(conn, event, update)

    async def on_closed(conn, event, closed) -> None:  # type: ignore[no-untyped-def]
        await handlers.on_case_closed(conn, event, closed)

    async def case_batch(conn: asyncpg.Connection, items: list[Batched]) -> list[Batched]:
        return await batches.on_case_events(conn, items, cfg(), datetime.now(UTC))

    return [
        Subscription(Topic.CASES, {"case.opened": on_opened, "case.updated": on_updated,
                                   "case.closed": on_closed}, batch_handler=case_batch),
        Subscription(Topic.SPECIALIST_ACTIONS, {"assignment.accept": on_accept,
                                                "assignment.decline": on_decline,
                                                "opinion.submit": on_opinion}),
        Subscription(Topic.SLA_EVENTS, {"sla.acceptance_expired": on_acceptance_expired}),
    ]


async def _act(conn: asyncpg.Connection, assignment_id: str, action: Action,
               reviewer_id: str, **kw: Any) -> None:
    """A refused action can never succeed as sent: dead-letter it with the reason."""
    try:
        await handlers.act(conn, assignment_id, action, datetime.now(UTC),
                           reviewer_id=reviewer_id, **kw)
    except handlers.ActionRefused as exc:
        raise PermanentError(f"{exc.kind}: {exc}") from None


async def on_accept(conn: asyncpg.Connection, _e: CloudEvent, msg: AssignmentAccept) -> None:
    await _act(conn, msg.assignment_id, Action.ACCEPT, msg.specialist_id)


async def on_decline(conn: asyncpg.Connection, _e: CloudEvent, msg: AssignmentDecline) -> None:
    await _act(conn, msg.assignment_id, Action.DECLINE, msg.specialist_id, reason=msg.reason)


async def on_opinion(conn: asyncpg.Connection, _e: CloudEvent, msg: OpinionSubmit) -> None:
    await _act(conn, msg.assignment_id, Action.OPINION, msg.specialist_id,
               opinion=handlers.Opinion(msg.diagnosis, msg.treatment_plan, msg.summary,
                                        msg.report_uri))


async def on_acceptance_expired(conn: asyncpg.Connection, _e: CloudEvent, step: SlaStep) -> None:
    if not step.assignment_id:
        raise PermanentError("sla.acceptance_expired without assignment_id")
    try:
        await handlers.expire(conn, step.assignment_id, datetime.now(UTC))
    except handlers.ActionRefused as exc:
        raise PermanentError(f"{exc.kind}: {exc}") from None
