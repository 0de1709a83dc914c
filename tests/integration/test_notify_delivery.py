"""Notify's planning and delivery loop against the real PostgreSQL, a real SMTP server, a
real webhook receiver and a real SMS gateway: exactly once, retries, giving up, slow
channels, quiet hours and events that arrive before their case."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from oncoroute_notify import samples
from oncoroute_notify.adapters import deliveries
from oncoroute_notify.adapters.channels import LogChannel, build_channels
from oncoroute_notify.adapters.templates import Renderer
from oncoroute_notify.bootstrap import MIGRATIONS_DIR
from oncoroute_notify.domain.links import Links
from oncoroute_notify.domain.policy import NotifyPolicy
from oncoroute_notify.entrypoints.worker import Dispatcher
from oncoroute_notify.handlers import Deps
from oncoroute_notify.handlers.deliver import deliver
from oncoroute_notify.handlers.events import on_event
from oncoroute_notify.handlers.outcomes import Outcomes
from oncoroute_notify.settings import NotifySettings
from oncoroute_shared.contracts.registry import model_for
from oncoroute_shared.db.migrations import migrate
from oncoroute_shared.db.pool import create_pool
from oncoroute_shared.embedded.stack import Infrastructure
from oncoroute_shared.envelope import CloudEvent, new_event

from ..support.notify_http import SECRET as WEBHOOK_SECRET
from ..support.notify_http import SMS_TOKEN, SmsGateway, WebhookReceiver
from ..support.notify_smtp import SmtpServer
from ..support.waiting import eventually

pytestmark = pytest.mark.integration
SOURCE = "st-marys-his"


@dataclass
class Rig:
    pool: asyncpg.Pool
    smtp: SmtpServer
    hooks: WebhookReceiver
    sms: SmsGateway
    deps: Deps
    case_id: str

    def event(self, kind: str, **changes: Any) -> CloudEvent:
        data = {**samples.datas(self.case_id)[kind], **changes}
        return new_event(kind, source="test", subject=self.case_id, data=data)

    async def deliver(self, event: CloudEvent) -> None:
        """What the inbox-guarded consumer does with one event."""
        kind = event.type.removeprefix("org.oncoroute.").removesuffix(".v1")
        async with self.pool.acquire() as conn, conn.transaction():
            await on_event(conn, event, model_for(kind).model_validate(event.data), self.deps,
                           datetime.now(UTC))

    async def rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.pool.fetch(
            "SELECT * FROM deliveries WHERE case_id = $1 ORDER BY created_at", self.case_id)]

    async def settled(self) -> list[dict[str, Any]] | None:
        rows = await self.rows()
        return rows if rows and all(r["status"] in ("sent", "failed") for r in rows) else None


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[SmtpServer, WebhookReceiver, SmsGateway]]:
    smtp, hooks, sms = SmtpServer().start(), WebhookReceiver().start(), SmsGateway().start()
    try:
        yield smtp, hooks, sms
    finally:
        smtp.stop()
        hooks.stop()
        sms.stop()


def policy(**overrides: Any) -> NotifyPolicy:
    doc = {**samples.policy_doc(), "quiet_hours": None,
           "retry": {"max_attempts": 6, "first_delay": "200ms", "max_delay": "500ms"},
           **overrides}
    return NotifyPolicy.model_validate(doc)


@pytest.fixture
async def rig(infra: Infrastructure, servers: tuple[SmtpServer, WebhookReceiver, SmsGateway],
              ) -> AsyncIterator[Rig]:
    smtp, hooks, sms = servers
    hooks.delay_s = 0.0
    schema = f"t_notify_{uuid.uuid4().hex[:8]}"
    assert infra.database_url
    pool = await create_pool(infra.database_url, schema, 6)
    async with pool.acquire() as conn:
        await migrate(conn, schema, MIGRATIONS_DIR)
    settings = NotifySettings(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_timeout_s=5,
                              sms_gateway_url=f"{sms.url}/messages", sms_gateway_token=SMS_TOKEN,
                              webhook_secrets={SOURCE: WEBHOOK_SECRET}, webhook_timeout_s=10)
    deps = Deps(policy(), Links("https://portal.test", "https://matcher.test", "x" * 32,
                      timedelta(hours=1)))
    dispatcher = Dispatcher(pool, build_channels(settings), Renderer(), deps, concurrency=1)
    task = asyncio.create_task(dispatcher.run(infra.database_url))
    try:
        yield Rig(pool, smtp, hooks, sms, deps, str(uuid.uuid4()))
    finally:
        task.cancel()
        await asyncio.wait([task], timeout=15)
        try:
            await asyncio.wait_for(pool.close(), 10)
        except TimeoutError:
            pool.terminate()
        conn = await asyncpg.connect(infra.database_url)
        try:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        finally:
            await conn.close()


def opened(rig: Rig, **patient: Any) -> CloudEvent:
    doc = samples.datas(rig.case_id)["case.opened"]
    sub = samples.submission(external_id=rig.case_id, callback_url=f"{rig.hooks.url}/hook")
    sub["patient"] = {**sub["patient"], **patient}
    return new_event("case.opened", source="test", subject=rig.case_id,
                     data={**doc, "submission": sub})


def mails(rig: Rig, address: str) -> list[str]:
    ref = rig.case_id.replace("-", "")[:8].upper()
    return [str(m["Subject"]) for m in rig.smtp.mailbox.to(address) if ref in m["Subject"]]


async def test_a_case_sends_each_message_once_even_when_events_come_twice(rig: Rig) -> None:
    events = [opened(rig), rig.event("assignment.offered"), rig.event("assignment.accepted"),
              rig.event("case.opinion_ready")]
    for event in events + events:  # every event redelivered
        await rig.deliver(event)
    rows = await eventually(rig.settled, timeout=60, what="every delivery to settle")
    assert {r["status"] for r in rows} == {"sent"}
    assert sorted((r["audience"], r["channel"], r["template"]) for r in rows) == sorted([
        ("patient", "email", "patient_request_received"),
        ("patient", "sms", "patient_request_received"),
        ("referring_physician", "email", "physician_case_received"),
        ("submitting_system", "webhook", "case_status_webhook"),
        ("specialist", "email", "specialist_offer"),
        ("specialist", "sms", "specialist_offer"),  # a fast-progressing case: paged
        ("patient", "email", "patient_reviewer_assigned"),
        ("patient", "sms", "patient_reviewer_assigned"),
        ("submitting_system", "webhook", "case_status_webhook"),
        ("patient", "email", "patient_opinion_ready"),
        ("patient", "sms", "patient_opinion_ready"),
        ("referring_physician", "email", "physician_opinion_ready"),
        ("submitting_system", "webhook", "case_status_webhook"),
    ])
    got = rig.smtp.mailbox.ids()
    assert all(got[f"<{r['delivery_id']}@oncoroute>"] == 1 for r in rows
               if r["channel"] == "email")
    assert rig.hooks.statuses(rig.case_id) == ["awaiting_records", "in_review", "opinion_ready"]
    ref = rig.case_id.replace("-", "")[:8].upper()
    assert sum(1 for s in rig.sms.received if ref in s["text"]) == 4
    sent = await rig.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = 'notifications' AND key = $1", rig.case_id)
    assert sent == 13


async def test_smtp_4xx_is_retried_and_delivered_once(rig: Rig) -> None:
    rig.smtp.mailbox.refuse("b.jones@example.org", times=2)
    await rig.deliver(opened(rig))
    rows = await eventually(rig.settled, timeout=60, what="deliveries to settle")
    physician = next(r for r in rows if r["audience"] == "referring_physician")
    assert (physician["status"], physician["attempts"]) == ("sent", 3)
    assert mails(rig, "b.jones@example.org") == [
        f"Second-opinion request {rig.case_id.replace('-', '')[:8].upper()} received"]


async def test_smtp_5xx_gives_up_at_once_with_failed_event_dead_letter_and_alert(
        rig: Rig) -> None:
    rig.smtp.mailbox.reject("refused.patient@example.org")
    contact = {"email": "refused.patient@example.org", "phone": "+44 7700 900123"}
    await rig.deliver(opened(rig, contact=contact))
    rows = await eventually(rig.settled, timeout=60, what="deliveries to settle")
    failed = next(r for r in rows if r["audience"] == "patient" and r["channel"] == "email")
    assert (failed["status"], failed["attempts"]) == ("failed", 1)
    assert failed["last_error"] == "permanent: smtp 550"
    alert = next(r for r in rows if r["template"] == "staff_delivery_failed")
    assert (alert["audience"], alert["status"]) == ("operators_on_call", "sent")
    assert alert["source_event_id"] == failed["delivery_id"]
    outbox = await rig.pool.fetch("SELECT topic, headers FROM outbox WHERE key = $1",
                                  rig.case_id)
    assert sum(1 for r in outbox if r["topic"] == "dead-letters") == 1
    headers = dict(next(r["headers"] for r in outbox if r["topic"] == "dead-letters"))
    assert headers["x-dead-letter-consumer"] == "notify.deliveries"
    assert failed["delivery_id"] in headers["x-dead-letter-error"]
    assert "refused.patient" not in str(outbox)  # no address in events or dead letters
    failed_events = await rig.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = 'notifications' AND key = $1"
        " AND convert_from(value, 'UTF8') LIKE '%notification.failed%'", rig.case_id)
    assert failed_events == 1


async def test_webhook_receiver_down_for_a_while_gets_it_once_when_back(rig: Rig) -> None:
    rig.hooks.stop()
    try:
        await rig.deliver(opened(rig))

        async def retried() -> bool:
            rows = await rig.rows()
            hook = next(r for r in rows if r["channel"] == "webhook")
            return hook["status"] == "retrying" and hook["attempts"] >= 2

        await eventually(retried, timeout=60, what="the webhook to be retried")
    finally:
        rig.hooks.start()
    rows = await eventually(rig.settled, timeout=60, what="deliveries to settle")
    hook = next(r for r in rows if r["channel"] == "webhook")
    assert hook["status"] == "sent" and hook["attempts"] >= 3
    assert rig.hooks.seen_ids[hook["delivery_id"]] == 1


async def test_a_slow_channel_does_not_hold_up_the_others(rig: Rig) -> None:
    rig.hooks.delay_s = 3.0  # each webhook takes 3 s; email and SMS must not wait for them
    for kind in ("assignment.accepted", "case.opinion_ready"):
        await rig.deliver(rig.event(kind))
    await rig.deliver(opened(rig))

    async def others_sent() -> list[dict[str, Any]] | None:
        rows = await rig.rows()
        others = [r for r in rows if r["channel"] != "webhook"]
        return rows if others and all(r["status"] == "sent" for r in others) else None

    rows = await eventually(others_sent, timeout=60, what="email and SMS to go out")
    assert any(r["status"] != "sent" for r in rows if r["channel"] == "webhook")
    await eventually(rig.settled, timeout=60, what="the slow webhooks to finish")


async def test_events_before_their_case_wait_for_it(rig: Rig) -> None:
    await rig.deliver(rig.event("sla.escalated"))
    assert await rig.rows() == []
    await rig.deliver(opened(rig))
    rows = await eventually(rig.settled, timeout=60, what="deliveries to settle")
    paged = {(r["audience"], r["channel"]) for r in rows if r["template"] == "staff_sla_escalated"}
    assert paged == {("tumor_group_lead", "email"), ("tumor_group_lead", "sms"),
                     ("operators_on_call", "email"), ("operators_on_call", "sms")}
    assert await rig.pool.fetchval("SELECT count(*) FROM parked_events") == 0


def _quiet_now() -> NotifyPolicy:
    now = datetime.now(UTC)
    end = now + timedelta(seconds=4)
    return policy(quiet_hours={"start": (now - timedelta(hours=1)).strftime("%H:%M:%S"),
                               "end": end.strftime("%H:%M:%S")})


async def test_quiet_hours_defer_patient_messages_never_drop_them(rig: Rig) -> None:
    rig.deps = Deps(_quiet_now(), rig.deps.links)
    await rig.deliver(opened(rig, timezone="UTC"))
    rows = await rig.rows()
    patient = [r for r in rows if r["audience"] == "patient"]
    assert patient and {r["status"] for r in patient} == {"deferred"}
    assert {r["status"] for r in rows if r["audience"] != "patient"} <= {"pending", "sent"}
    rows = await eventually(rig.settled, timeout=60, what="the quiet hours to end")
    for r in rows:
        if r["audience"] == "patient":
            assert r["status"] == "sent" and r["sent_at"] >= r["due_at"]


def test_migrations_directory_is_the_services() -> None:
    assert Path(MIGRATIONS_DIR, "002_case_copy_and_leases.sql").exists()


async def test_a_worker_that_lost_its_lease_records_nothing_and_announces_nothing(
    rig: Rig,
) -> None:
    """A send finished after another worker took the lease over: neither the outcome nor its
    `notification.sent` (written in the same statement) may be recorded; the new holder's
    send is the one that counts."""
    later = datetime.now(UTC) + timedelta(days=1)
    event = opened(rig)
    # keep the background worker off one delivery (due tomorrow from the moment it exists:
    # planned and postponed in one transaction), then lease it as a worker would
    async with rig.pool.acquire() as conn, conn.transaction():
        await on_event(conn, event, model_for("case.opened").model_validate(event.data),
                       rig.deps, datetime.now(UTC))
        target = await conn.fetchval(
            "UPDATE deliveries SET due_at = $2 WHERE delivery_id = (SELECT delivery_id FROM"
            " deliveries WHERE case_id = $1 AND channel = 'email' AND status = 'pending'"
            " ORDER BY delivery_id LIMIT 1) RETURNING delivery_id", rig.case_id, later)
    assert target is not None, "a pending email delivery to take over"
    async with rig.pool.acquire() as conn:
        [row] = [r for r in await deliveries.lease_due(conn, {"email": 50}, later,
                                                       {"email": timedelta(seconds=30)})
                 if r["delivery_id"] == target]
    await rig.pool.execute("UPDATE deliveries SET lease_token = 'another-worker'"
                           " WHERE delivery_id = $1", target)
    got = await deliver(Outcomes(rig.pool), row, LogChannel("email"), Renderer(), rig.deps,
                        random.Random(1), lambda: later)
    assert got is None
    after = await rig.pool.fetchrow("SELECT status, sent_at, lease_token FROM deliveries"
                                    " WHERE delivery_id = $1", target)
    assert (after["status"], after["sent_at"], after["lease_token"]) == (
        "pending", None, "another-worker")
    # the other deliveries go on being sent meanwhile: look for this one's event only
    assert await rig.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE position($1::bytea IN value) > 0",
        target.encode()) == 0
