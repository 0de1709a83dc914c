"""Send one leased delivery and record the outcome: sent, retry later, or give up with
`notification.failed`, a dead letter and an operator alert, all in one transaction."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

import asyncpg
from jinja2 import TemplateError

from oncoroute_shared.contracts.notifications import NotificationOutcome
from oncoroute_shared.envelope import encode
from oncoroute_shared.messaging.dead_letters import dead_letter
from oncoroute_shared.messaging.outbox import emit, outbox_row
from oncoroute_shared.metrics import NOTIFICATIONS
from oncoroute_shared.topics import Topic

from ..adapters import deliveries
from ..adapters.channels import Channel, PermanentDeliveryError, RetryableError
from ..adapters.templates import Renderer
from ..domain import rules
from ..domain.schedule import Decision, Outcome, after_attempt
from . import SOURCE, Deps
from .events import store
from .outcomes import Outcomes

log = logging.getLogger("oncoroute.notify.deliver")
CONSUMER = "notify.deliveries"


async def attempt(row: dict[str, Any], channel: Channel, renderer: Renderer) -> tuple[
        Outcome, str | None]:
    """One try. Errors name a code or an exception type, never the message or recipient."""
    try:
        outgoing = renderer.render(delivery_id=row["delivery_id"], recipient=row["recipient"],
                                   template=row["template"], channel=row["channel"],
                                   locale=row["locale"], context=row["context"])
    except (TemplateError, KeyError) as exc:
        return "permanent", f"template {row['template']}: {type(exc).__name__}"
    try:
        async with asyncio.timeout(channel.timeout_s + 5):
            await channel.send(outgoing)
    except RetryableError as exc:
        return "retryable", str(exc)
    except PermanentDeliveryError as exc:
        return "permanent", str(exc)
    except TimeoutError:
        return "retryable", f"{channel.name} timed out"
    except Exception as exc:  # an adapter bug must not stop the worker; retry, then give up
        log.exception("channel %s failed on delivery %s", channel.name, row["delivery_id"])
        return "retryable", f"{channel.name} {type(exc).__name__}"
    return "sent", None


async def deliver(outcomes: Outcomes, row: dict[str, Any], channel: Channel,
                  renderer: Renderer, deps: Deps, rng: random.Random,
                  clock: Callable[[], datetime],
                  answered: Callable[[], None] = lambda: None) -> Decision | None:
    """Returns the decision recorded, or None when another worker took the lease over.
    `answered` is called once the channel has answered, before the outcome is recorded."""
    outcome, error = await attempt(row, channel, renderer)
    answered()
    now = clock()
    decision = after_attempt(outcome, error, row["attempts"], now, deps.policy.retry, rng,
                             row["urgency"], row["quiet_tz"], deps.policy.quiet_hours)
    if decision.gave_up:  # the outcome, its event, a dead letter and alerts together
        async with outcomes.pool.acquire() as conn, conn.transaction():
            if not await deliveries.finish(conn, row, decision, now):
                _lease_lost(row)
                return None
            await record(conn, row, decision, deps, now)
    else:  # sent (with its event) or retried later: one statement with others answered now
        event = (outbox_row("notification.sent", source=SOURCE, case_id=row["case_id"],
                            data=_outcome(row, decision))
                 if decision.status == "sent" else None)
        if not await outcomes.record(row, decision, now, event):
            _lease_lost(row)
            return None
    NOTIFICATIONS.labels(row["channel"], decision.status).inc()
    return decision


def _lease_lost(row: dict[str, Any]) -> None:
    log.warning("delivery %s: lease lost, outcome not recorded", row["delivery_id"])


def _outcome(row: dict[str, Any], decision: Decision) -> NotificationOutcome:
    return NotificationOutcome(
        delivery_id=row["delivery_id"], case_id=row["case_id"],
        source_event_id=row["source_event_id"], audience=row["audience"],
        channel=row["channel"], template=row["template"], attempts=row["attempts"],
        error=decision.error)


async def record(conn: asyncpg.Connection, row: dict[str, Any], decision: Decision, deps: Deps,
                 now: datetime) -> None:
    if decision.status not in ("sent", "failed"):
        return
    event = await emit(conn, f"notification.{decision.status}", source=SOURCE,
                       case_id=row["case_id"], data=_outcome(row, decision))
    if not decision.gave_up:
        return
    log.warning("delivery %s gave up: %s", row["delivery_id"], decision.error)
    await dead_letter(conn, consumer=CONSUMER, topic=Topic.NOTIFICATIONS, partition=-1,
                      offset=-1, key=row["case_id"].encode(), value=encode(event),
                      error=f"delivery {row['delivery_id']} {decision.error}")
    alerts = rules.delivery_failed({**row, "error": decision.error}, deps.policy, deps.links)
    await store(conn, row["delivery_id"], "notification.failed", row["case_id"], alerts, deps,
                now)
