"""Notify end to end: the four services as processes on their own broker and PostgreSQL,
with a real SMTP server, a webhook receiver that verifies signatures and an SMS gateway.

A full case produces exactly the expected messages to the expected people; SMTP 4xx is
retried and delivered once, SMTP 5xx gives up with notification.failed, a dead letter and an
operator alert; a webhook receiver that is down gets every call once when it is back; notify
SIGKILLed in the middle of a burst loses nothing and sends nothing twice (by delivery id)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import asyncpg
import pytest
import yaml

from oncoroute_shared import signed_links
from oncoroute_shared.envelope import encode, new_event
from oncoroute_shared.policy import DEFAULT_POLICY

from ..support import notify_http
from ..support.kafka import events, publish
from ..support.notify_http import SmsGateway, WebhookReceiver
from ..support.notify_smtp import SmtpServer
from ..support.submissions import submission
from ..support.waiting import eventually
from .conftest import System, isolated_system

pytestmark = pytest.mark.e2e
SOURCE = "notify-e2e"
LINK_SECRET = "notify-e2e-link-signing-secret"
LEAD = {"name": "Dr Lead", "email": "lead@e2e.example.org", "phone": "+44 7700 900301"}
OPERATOR = {"name": "Operator", "email": "ops@e2e.example.org", "phone": "+44 7700 900302"}


class Rig:
    def __init__(self, system: System, smtp: SmtpServer, hooks: WebhookReceiver,
                 sms: SmsGateway, artifacts: Path) -> None:
        self.system, self.smtp, self.hooks, self.sms = system, smtp, hooks, sms
        self.artifacts = artifacts

    async def submit(self, doc: dict[str, Any]) -> str:
        async with self.system.intake_client() as client:
            r = await client.post("/v1/cases", json=doc)
        assert r.status_code == 201, r.text
        return str(r.json()["case_id"])

    async def deliveries(self, db: asyncpg.Connection, case_ids: list[str]) -> list[Any]:
        return await db.fetch("SELECT * FROM notify.deliveries WHERE case_id = ANY($1::text[])",
                              case_ids)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[Rig]:
    tmp = tmp_path_factory.mktemp("notify-e2e")
    smtp, hooks, sms = SmtpServer().start(), WebhookReceiver().start(), SmsGateway().start()
    smtp.mailbox.delay_s = 0.05  # a real server takes a moment: stretches the burst
    doc = yaml.safe_load(Path(str(DEFAULT_POLICY)).read_text())
    doc["notify"] = {**doc.get("notify", {}),
                     "tumor_group_leads": {"default": [LEAD]}, "operators_on_call": [OPERATOR],
                     "physicians": {"ext-9": "first.opinion@e2e.example.org"}, "quiet_hours": None,
                     "retry": {"max_attempts": 6, "first_delay": "500ms", "max_delay": "2s"}}
    policy = tmp / "policy.yaml"
    policy.write_text(yaml.safe_dump(doc))
    env = {**smtp.env(), **notify_http.env(hooks, sms, SOURCE), "ONCOROUTE_POLICY": str(policy),
           "LINK_SIGNING_SECRET": LINK_SECRET, "NOTIFY_CONCURRENCY": "4"}
    try:
        with isolated_system(tmp, artifacts / "logs" / "notify-e2e", env=env) as system:
            yield Rig(system, smtp, hooks, sms, artifacts)
    finally:
        smtp.stop()
        hooks.stop()
        sms.stop()


@pytest.fixture
async def db(rig: Rig) -> Any:
    conn = await asyncpg.connect(rig.system.infra.database_url)
    try:
        yield conn
    finally:
        await conn.close()


def case_doc(rig: Rig, icd10: str = "C50.9", **overrides: Any) -> dict[str, Any]:
    doc = submission(icd10=icd10, source=SOURCE, reasons=["reassurance"],
                     callback_url=f"{rig.hooks.url}/oncoroute", **overrides)
    doc["diagnosis"]["icd_o3_morphology"] = None
    return doc


async def topic(rig: Rig, name: str, case_id: str) -> list[Any]:
    return [e for e in await events(rig.system.infra.kafka or "", name) if e.subject == case_id]


async def act(rig: Rig, kind: str, case_id: str, data: dict[str, Any]) -> None:
    """What a specialist's client does: an action on `specialist-actions`."""
    event = new_event(kind, source="e2e-specialist-client", subject=case_id, data=data)
    await publish(rig.system.infra.kafka or "", "specialist-actions",
                  [(case_id.encode(), encode(event))])


def subjects(rig: Rig, address: str, ref: str) -> list[str]:
    """Subjects of the emails to `address` about the case with reference `ref`."""
    return sorted(str(m["Subject"]) for m in rig.smtp.mailbox.to(address)
                  if ref in m.get_body(("plain",)).get_content())


async def test_a_full_case_sends_exactly_the_expected_messages(rig: Rig,
                                                               db: asyncpg.Connection) -> None:
    patient = {"reference": "MRN-77", "age": 40, "sex": "female", "language": "hi",
               "country": "GB", "timezone": "Asia/Kolkata",
               "contact": {"email": "hindi.patient@e2e.example.org", "phone": "+91 98765 43210"},
               "consent": {"email": True, "sms": True}}
    doc = case_doc(rig, "C92.0", patient=patient,
                   diagnosis={"icd10": "C92.0", "description": "Acute myeloid leukaemia"},
                   referring_physician={"name": "Dr Ref", "email": "referrer@e2e.example.org"})
    case_id = await rig.submit(doc)
    ref = case_id.replace("-", "")[:8].upper()

    offered = await eventually(lambda: _offered(rig, case_id), timeout=90,
                               what="the matcher's offer")
    offer = offered.data
    mail = await eventually(lambda: _one(rig.smtp.mailbox.to(offer["reviewer"]["email"])),
                            timeout=60, what="the offer email")
    text = mail.get_body(("plain",)).get_content()
    accept = next(w for w in text.split() if "/accept?token=" in w)
    url = urlparse(accept)
    claims = signed_links.verify(LINK_SECRET, parse_qs(url.query)["token"][0],
                                 now=datetime.now(UTC), action="accept",
                                 assignment_id=offer["assignment_id"])
    assert claims.reviewer_id == offer["reviewer"]["id"]
    assert url.path == f"/v1/assignments/{offer['assignment_id']}/accept"

    specialist = {"assignment_id": offer["assignment_id"], "specialist_id": offer["reviewer"]["id"]}
    await act(rig, "assignment.accept", case_id, specialist)
    await eventually(lambda: _has(rig, case_id, "in_review"), timeout=60,
                     what="the in_review webhook")
    await act(rig, "opinion.submit", case_id, {
        **specialist, "diagnosis": "refined", "treatment_plan": "modified",
        "summary": "See report", "report_uri": "https://reports.e2e.test/r-1"})
    await eventually(lambda: _has(rig, case_id, "opinion_ready"), timeout=90,
                     what="the opinion_ready webhook")

    async def settled() -> list[Any] | None:
        rows = await rig.deliveries(db, [case_id])
        return rows if rows and all(r["status"] == "sent" for r in rows) else None

    rows = await eventually(settled, timeout=90, what="every delivery of the case sent")
    # The patient, in Hindi, on both consented channels; nothing clinical in SMS or subjects.
    assert subjects(rig, "hindi.patient@e2e.example.org", ref) == sorted([
        "दूसरी राय का आपका अनुरोध हमें मिल गया है", "एक विशेषज्ञ आपके अनुरोध की समीक्षा कर रहे हैं",
        "आपकी दूसरी राय तैयार है"])
    assert len(rig.sms.to("+91 98765 43210")) == 3
    # The referring and the first-opinion physician: received, then the concordance.
    for physician in ("referrer@e2e.example.org", "first.opinion@e2e.example.org"):
        assert subjects(rig, physician, ref) == [
            f"Second opinion ready for request {ref}", f"Second-opinion request {ref} received"]
    ready = next(m for m in rig.smtp.mailbox.to("referrer@e2e.example.org")
                 if "ready" in m["Subject"])
    body = ready.get_body(("plain",)).get_content()
    assert "Diagnosis: refined" in body and "Treatment plan: modified" in body
    # A fast-progressing case pages the lead and the operator at once (email and SMS).
    for staff in (LEAD, OPERATOR):
        paged = f"URGENT: Case {ref} escalated (level expedite)"
        assert subjects(rig, staff["email"], ref) == [paged]
        assert [s["text"].split(".")[0] for s in rig.sms.to(staff["phone"])
                if ref in s["text"]] == [paged]
    # The submitting system: every status change, signed, once each.
    statuses = rig.hooks.statuses(case_id)
    assert statuses[0] in ("ready", "awaiting_records")
    assert statuses[1:3] == ["in_review", "opinion_ready"] and statuses[3:] in ([], ["closed"])
    assert all(n == 1 for n in rig.hooks.seen_ids.values())
    # Nothing else, and notify's record agrees with what arrived.
    people = [r for r in rows if r["channel"] != "webhook"]
    assert len(people) == 3 * 2 + 2 * 2 + 1 + 2 * 2  # patient, physicians, offer, staff
    assert len(rows) - len(people) == len(statuses)
    emails = {f"<{r['delivery_id']}@oncoroute>" for r in rows if r["channel"] == "email"}
    assert all(rig.smtp.mailbox.ids()[i] == 1 for i in emails)
    sent = [e for e in await topic(rig, "notifications", case_id)
            if e.type.endswith("notification.sent.v1")]
    assert {e.data["delivery_id"] for e in sent} == {r["delivery_id"] for r in rows}


async def _offered(rig: Rig, case_id: str) -> Any:
    offers = [e for e in await topic(rig, "assignments", case_id)
              if e.type.endswith("assignment.offered.v1")]
    return offers[0] if offers else None


async def _one(items: list[Any]) -> Any:
    return items[0] if items else None


async def _has(rig: Rig, case_id: str, status: str) -> bool:
    return status in rig.hooks.statuses(case_id)


async def test_smtp_and_webhook_faults_retry_give_up_and_recover(rig: Rig,
                                                                 db: asyncpg.Connection) -> None:
    rig.smtp.mailbox.refuse("flaky@e2e.example.org", times=2)
    rig.smtp.mailbox.reject("bounce@e2e.example.org")
    rig.hooks.stop()  # the submitting system is down for a while
    try:
        flaky = await rig.submit(case_doc(
            rig, referring_physician={"name": "Dr Flaky", "email": "flaky@e2e.example.org"}))
        bounce = await rig.submit(case_doc(
            rig, referring_physician={"name": "Dr Bounce", "email": "bounce@e2e.example.org"}))

        async def webhooks_retrying() -> bool:
            # refused twice and recorded so: `attempts` counts a try when it is leased, so
            # attempts >= 2 alone may be the second try still in flight, which would then
            # reach the receiver once it is back and succeed at attempt 2
            rows = await rig.deliveries(db, [flaky, bounce])
            return any(r["channel"] == "webhook" and r["attempts"] >= 2
                       and r["status"] == "retrying" and r["lease_token"] is None for r in rows)

        await eventually(webhooks_retrying, timeout=90, what="webhooks to be retried")
    finally:
        rig.hooks.start()

    async def settled() -> list[Any] | None:
        rows = await rig.deliveries(db, [flaky, bounce])
        done = rows and all(r["status"] in ("sent", "failed") for r in rows)
        hooks = [r for r in rows if r["channel"] == "webhook"]
        return rows if done and len(hooks) == 2 else None

    rows = await eventually(settled, timeout=90, what="the faulty deliveries to settle")
    by = {(r["case_id"], r["audience"], r["channel"]): r for r in rows}
    retried = by[(flaky, "referring_physician", "email")]
    assert (retried["status"], retried["attempts"]) == ("sent", 3)
    assert len(rig.smtp.mailbox.to("flaky@e2e.example.org")) == 1
    bounced = by[(bounce, "referring_physician", "email")]
    assert (bounced["status"], bounced["attempts"], bounced["last_error"]) == (
        "failed", 1, "permanent: smtp 550")
    assert rig.smtp.mailbox.to("bounce@e2e.example.org") == []
    async with rig.system.operator_client("notify") as client:
        listed = (await client.get("/v1/notifications", params={"case_id": bounce})).json()
    shown = next(d for d in listed if d["delivery_id"] == bounced["delivery_id"])
    assert (shown["status"], shown["attempts"], shown["last_error"], shown["recipient"]) == (
        "failed", 1, "permanent: smtp 550", "b***@e2e.example.org")
    assert {d["status"] for d in listed} <= {"sent", "failed"} and len(listed) >= 5
    hooks = [by[(case_id, "submitting_system", "webhook")] for case_id in (flaky, bounce)]
    assert all(h["status"] == "sent" and rig.hooks.seen_ids[h["delivery_id"]] == 1
               for h in hooks)
    assert max(h["attempts"] for h in hooks) >= 3  # refused at least twice, then delivered

    async def failure_reported() -> bool:
        failed = [e for e in await topic(rig, "notifications", bounce)
                  if e.type.endswith("notification.failed.v1")]
        dead = [r for r in await _dead_letters(rig)
                if r.key == bounce.encode()
                and ("x-dead-letter-consumer", b"notify.deliveries") in list(r.headers)]
        alert = [m for m in rig.smtp.mailbox.to(OPERATOR["email"])
                 if "could not be delivered" in str(m["Subject"])
                 and bounce in m.get_body(("plain",)).get_content()]
        return len(failed) == 1 and len(dead) == 1 and len(alert) == 1

    await eventually(failure_reported, timeout=60,
                     what="notification.failed, the dead letter and the operator alert")


async def _dead_letters(rig: Rig) -> list[Any]:
    from ..support.kafka import read_all

    return await read_all(rig.system.infra.kafka or "", "dead-letters")


BURST = 30


async def test_notify_killed_mid_burst_loses_nothing_and_sends_nothing_twice(
        rig: Rig, db: asyncpg.Connection) -> None:
    notify = rig.system.services["notify"]
    cases = await asyncio.gather(*(rig.submit(case_doc(rig)) for _ in range(BURST)))

    async def some_sent() -> bool:
        n = await db.fetchval("SELECT count(*) FROM notify.deliveries WHERE status = 'sent'"
                              " AND case_id = ANY($1::text[])", cases)
        return n >= 10

    await eventually(some_sent, timeout=90, interval=0.05, what="the burst to start going out")
    notify.kill()
    at_kill = await db.fetch("SELECT status FROM notify.deliveries WHERE case_id = ANY($1)",
                             cases)
    await asyncio.to_thread(rig.system.restart, "notify")
    assert any(r["status"] != "sent" for r in at_kill), "the kill must land mid-burst"

    async def all_sent() -> list[Any] | None:
        rows = await rig.deliveries(db, cases)
        per_case = {c: [r for r in rows if r["case_id"] == c] for c in cases}
        # patient, referring and first-opinion physician, the offer, the webhook
        complete = all(len(v) == 5 for v in per_case.values())
        return rows if complete and all(r["status"] == "sent" for r in rows) else None

    rows = await eventually(all_sent, timeout=120, what="every delivery of the burst sent")
    emails = [f"<{r['delivery_id']}@oncoroute>" for r in rows if r["channel"] == "email"]
    received = rig.smtp.mailbox.ids()
    assert all(received[i] >= 1 for i in emails), "an email was lost"
    hooks = [r["delivery_id"] for r in rows if r["channel"] == "webhook"]
    assert all(rig.hooks.seen_ids[i] >= 1 for i in hooks), "a webhook was lost"
    # At least once on the wire, exactly once by idempotency key: a send in flight at the
    # kill may go again (same Message-ID / webhook-id), at most one per in-flight slot.
    resent = sum(received[i] - 1 for i in emails) + sum(rig.hooks.seen_ids[i] - 1 for i in hooks)
    assert resent <= 2 * 4
    (rig.artifacts / "notify-crash.json").write_text(json.dumps(
        {"cases": BURST, "deliveries": len(rows), "resent_after_kill": resent}))
