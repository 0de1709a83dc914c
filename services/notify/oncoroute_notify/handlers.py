"""Plan deliveries when events arrive; deliver them from the worker."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import asyncpg

from oncoroute_shared.contracts.assignments import AssignmentOffered
from oncoroute_shared.contracts.notifications import NotificationOutcome
from oncoroute_shared.envelope import CloudEvent
from oncoroute_shared.messaging.outbox import emit

from .adapters import deliveries
from .adapters.channels import EmailChannel, PermanentDeliveryError, RetryableError
from .adapters.templates import Renderer
from .domain.messages import for_offer
from .domain.retry import next_attempt

SOURCE = "oncoroute/notify"
MAX_ATTEMPTS = 8
log = logging.getLogger("oncoroute.notify")


async def on_assignment_offered(conn: asyncpg.Connection, event: CloudEvent,
                                offer: AssignmentOffered, matcher_url: str) -> None:
    now = datetime.now(UTC)
    for message in for_offer(offer, matcher_url):
        await deliveries.plan(conn, event.id, offer.case_id, message, now)


async def deliver(conn: asyncpg.Connection, row: dict[str, Any], email: EmailChannel,
                  renderer: Renderer, now: datetime) -> None:
    """Send one claimed delivery and record the outcome in the same transaction."""
    attempts = row["attempts"] + 1
    outcome = NotificationOutcome(
        delivery_id=row["delivery_id"], case_id=row["case_id"],
        source_event_id=row["source_event_id"], audience=row["audience"],
        channel=row["channel"], template=row["template"], attempts=attempts,
    )
    try:
        subject, body = renderer.email(row["template"], row["context"])
        await email.send(row["delivery_id"], row["recipient"], subject, body)
    except RetryableError as exc:
        if attempts < MAX_ATTEMPTS:
            await deliveries.mark(conn, row["delivery_id"], "retrying", attempts, str(exc),
                                  next_attempt(now, attempts), None)
            return
        outcome.error = f"gave up after {attempts} attempts: {exc}"
    except PermanentDeliveryError as exc:
        outcome.error = str(exc)
    if outcome.error:
        await deliveries.mark(conn, row["delivery_id"], "failed", attempts, outcome.error, now,
                              None)
        await emit(conn, "notification.failed", source=SOURCE, case_id=row["case_id"],
                   data=outcome)
        return
    await deliveries.mark(conn, row["delivery_id"], "sent", attempts, None, now, now)
    await emit(conn, "notification.sent", source=SOURCE, case_id=row["case_id"], data=outcome)
