"""Chaos under load, as a library the test and `bench/chaos.py` share.

A system of its own (broker, PostgreSQL, the four services, a real SMTP server, webhook
receiver and SMS gateway) on a seconds-scale policy, so every clock runs its whole ladder
(warning, escalations, breach) during the run. Cases arrive over HTTP and Kafka; a tenth of the
HTTP ones are withdrawn, a reviewer's client gives opinions on some offers. Meanwhile a
killer SIGKILLs a random service process every few seconds and restarts it (each round kills
every service once, in random order), and PostgreSQL is restarted once (immediate shutdown:
crash recovery). Then the whole history is read back and every invariant checked."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import yaml
from aiokafka import AIOKafkaProducer

from oncoroute_shared.cli.main import load_spec
from oncoroute_shared.contracts.registry import short_type
from oncoroute_shared.embedded.stack import SERVICES, wait_ready
from oncoroute_shared.envelope import decode, encode, new_event
from oncoroute_shared.policy import DEFAULT_POLICY
from oncoroute_shared.runtime import Runtime

from ..e2e.conftest import System, isolated_system
from ..support import notify_http
from ..support.kafka import read_all
from ..support.notify_http import SmsGateway, WebhookReceiver
from ..support.notify_smtp import SmtpServer
from ..support.submissions import submission
from . import invariants

SOURCE = "chaos-hospital"
TOPICS = ("cases", "assignments", "sla-events", "notifications")
OPERATOR = {"name": "Operator", "email": "ops@chaos.example.org", "phone": "+44 7700 900502"}
LEAD = {"name": "Dr Lead", "email": "lead@chaos.example.org", "phone": "+44 7700 900501"}


_last_progress = [0.0]


def progress(what: str, every_s: float = 5.0) -> None:
    """A line on stderr now and then, so a long run shows where it is."""
    now = time.monotonic()
    if now - _last_progress[0] >= every_s or what.startswith("restarted"):
        _last_progress[0] = now
        print(f"{time.strftime('%H:%M:%S')} chaos: {what}", file=sys.stderr, flush=True)


@dataclass
class Settings:
    cases: int = 300
    rate: float = 12.0  # submissions per second, HTTP and Kafka together
    kafka_share: float = 0.4
    fast_share: float = 0.08  # acute leukaemia: fast-progressing, staff paged by SMS too
    withdraw_share: float = 0.1
    opinion_share: float = 0.3
    kill_every: float = 3.0  # seconds between one restart being ready and the next kill
    # Each round kills every service once, in random order; PostgreSQL restarts once, in the
    # first. 0: rounds until the load is done (the long form).
    rounds: int = 1
    turnaround_s: int = 30  # standard tier; fast-progressing is two thirds of it
    seed: int = 20261121
    processes: int = 1  # of every service (scale-out runs two)
    chaos: bool = True

    @classmethod
    def from_env(cls, **defaults: Any) -> Settings:
        s = cls(**defaults)
        for name, kind in (("cases", int), ("rate", float), ("kill_every", float),
                           ("rounds", int), ("seed", int), ("processes", int),
                           ("turnaround_s", int)):
            raw = os.environ.get(f"ONCOROUTE_CHAOS_{name.upper()}")
            if raw:
                setattr(s, name, kind(raw))
        return s


def roster(cases: int) -> str:
    """Fewer seats than cases need: some wait (visibly unmatched) until capacity frees. Each
    specialist holds at most 800 (the roster allows 1,000)."""
    lines = ["id,name,email,phone,roles,tumor_groups,max_active,languages,regions,"
             "institution,timezone"]
    n = 0
    for kind, role, group, share in (("breast", "medical_oncologist", "breast", 0.7),
                                     ("path", "pathologist", "breast", 0.1),
                                     ("haem", "haematologist", "haematologic", 0.04)):
        total = max(2 if kind == "breast" else 1, int(cases * share))
        people = max(2 if kind == "breast" else 1, -(-total // 800))
        for k in range(people):
            n += 1
            lines.append(f"cx-{kind}-{k + 1},Dr {kind.title()} {k + 1},cx{n}@chaos.example.org,"
                         f"+44 7700 9{n:05d},{role},{group},{max(1, total // people)},en,GB,"
                         f"Inst {n},UTC")
    return "\n".join(lines) + "\n"


def policy(settings: Settings) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(Path(str(DEFAULT_POLICY)).read_text())
    t = settings.turnaround_s
    doc["sla"].update({
        "tiers": {"fast_progressing": {"turnaround": f"{t * 2 // 3}s",
                                       "acceptance_timeout": "1h", "clock_starts": "opened",
                                       "expedite": True},
                  "standard": {"turnaround": f"{t}s", "acceptance_timeout": "1h",
                               "clock_starts": "ready"}},
        "warnings": [{"at": 0.5, "audience": ["reviewers"]}],
        "escalation": {"levels": [{"at": 0.8, "audience": ["operators_on_call"]}],
                       "repeat_every": None},
        "breach": {"audience": ["operators_on_call"]},
        "expedite": {"audience": ["operators_on_call"]},
    })
    doc["matching"]["retry_every"] = "5s"
    doc["notify"].update({"tumor_group_leads": {"default": [LEAD]},
                          "operators_on_call": [OPERATOR], "quiet_hours": None,
                          "retry": {"max_attempts": 20, "first_delay": "500ms",
                                    "max_delay": "3s"}})
    return doc


def case_doc(n: int, rng: random.Random, receiver: str,
             fast_share: float = 0.08) -> dict[str, Any]:
    """Complete submissions: breast (some with a pathologist seat), some acute leukaemia."""
    external_id = f"chaos-{n:06d}-{uuid.uuid4().hex[:6]}"
    if rng.random() < fast_share:
        doc = submission(icd10="C92.0", source=SOURCE, external_id=external_id,
                         reasons=["reassurance"])
        doc["diagnosis"]["icd_o3_morphology"] = "9861/3"
    else:
        reasons = ["confirm_diagnosis"] if rng.random() < 0.2 else ["reassurance"]
        doc = submission(source=SOURCE, external_id=external_id, reasons=reasons)
    doc["patient"]["consent"] = {"email": False, "sms": False}
    doc["referring_physician"] = None
    doc["first_opinion"]["physician_id"] = None
    if rng.random() < 0.5:
        doc["callback_url"] = f"{receiver}/oncoroute"
    return doc


@dataclass
class Rig:
    system: System
    smtp: SmtpServer
    hooks: WebhookReceiver
    sms: SmsGateway
    settings: Settings
    extra: dict[str, list[Any]] = field(default_factory=dict)  # service -> more processes

    def processes(self) -> list[tuple[str, Any]]:
        return [(n, p) for n, p in self.system.services.items()] + [
            (n, p) for n, ps in self.extra.items() for p in ps]

    def received(self) -> Counter[str]:
        got: Counter[str] = Counter()
        for message_id, n in self.smtp.mailbox.ids().items():
            got[message_id.strip("<>").removesuffix("@oncoroute")] += n
        got.update(self.hooks.seen_ids)
        got.update(Counter(r["reference"] for r in self.sms.received))
        return got


@contextlib.contextmanager
def chaos_rig(tmp: Path, logs: Path, settings: Settings) -> Iterator[Rig]:
    smtp, hooks, sms = SmtpServer().start(), WebhookReceiver(), SmsGateway()
    hooks.start()
    sms.start()
    policy_file = tmp / "policy.yaml"
    policy_file.write_text(yaml.safe_dump(policy(settings)))
    env = {**smtp.env(), **notify_http.env(hooks, sms, SOURCE),
           "ONCOROUTE_POLICY": str(policy_file), "NOTIFY_CONCURRENCY": "8",
           "CONSUMER_MAX_ATTEMPTS": "5"}
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("*.log"):
        old.unlink()
    try:
        with isolated_system(tmp, logs, env=env, roster=roster(settings.cases)) as system:
            rig = Rig(system, smtp, hooks, sms, settings)
            try:
                for name in SERVICES:
                    for k in range(1, settings.processes):
                        rig.extra.setdefault(name, []).append(_another(system, name, k, logs))
                wait_ready([p for ps in rig.extra.values() for p in ps], deadline_s=120)
                yield rig
            finally:
                for ps in rig.extra.values():
                    for p in ps:
                        p.stop()
    finally:
        smtp.stop()
        hooks.stop()
        sms.stop()


def _another(system: System, name: str, k: int, logs: Path) -> Any:
    from oncoroute_shared.embedded.stack import ServiceProcess

    from ..support.stack import free_port

    return ServiceProcess(name, free_port(), system.env, logs / f"{name}-{k + 1}.log").start()


@dataclass
class Load:
    """What the submitters did and saw."""

    submitted: set[tuple[str, str]] = field(default_factory=set)
    http_ids: list[str] = field(default_factory=list)
    withdrawn: set[str] = field(default_factory=set)
    opinions: set[str] = field(default_factory=set)
    retries: int = 0
    http: int = 0
    kafka: int = 0


async def _retrying(what: Any, load: Load, deadline_s: float = 900) -> httpx.Response:
    """A submitting system's client: retry on a dropped connection or a 5xx until accepted
    (the same external id makes a retry safe: the case opens once), backing off."""
    end = time.monotonic() + deadline_s
    tries = 0
    while True:
        try:
            r: httpx.Response = await what()
            if r.status_code < 500:
                return r
        except httpx.TransportError:
            pass
        if time.monotonic() > end:
            raise AssertionError("a request kept failing past its deadline")
        load.retries += 1
        tries += 1
        # client backoff with jitter, not synchronisation
        await asyncio.sleep(min(0.25 * 2 ** tries, 4.0) * random.uniform(0.5, 1.0))


async def submit_all(rig: Rig, load: Load) -> None:
    s = rig.settings
    rng = random.Random(s.seed)
    urls = [p.url for n, p in rig.processes() if n == "intake"]
    producer = AIOKafkaProducer(bootstrap_servers=rig.system.infra.kafka, acks="all")
    await producer.start()
    pending: set[asyncio.Task[None]] = set()
    # A submitting system sends a bounded number of requests at once: while intake is down
    # its queue fills and the load slows (backpressure), as a real client's would.
    in_flight = asyncio.Semaphore(32)
    try:
        async with httpx.AsyncClient(headers=rig.system.intake_headers, timeout=15,
                                 limits=httpx.Limits(max_connections=32)) as client:
            start = time.monotonic()
            for n in range(s.cases):
                doc = case_doc(n, rng, rig.hooks.url, s.fast_share)
                if rng.random() < s.kafka_share:
                    event = new_event("case.submitted", source=SOURCE,
                                      subject=doc["external_id"], data=doc)
                    await producer.send_and_wait("case-submissions", encode(event),
                                                 key=doc["external_id"].encode())
                    load.submitted.add((SOURCE, doc["external_id"]))
                    load.kafka += 1
                else:
                    withdraw = rng.random() < s.withdraw_share
                    await in_flight.acquire()
                    task = asyncio.create_task(_http_case(client, urls[n % len(urls)], doc,
                                                          withdraw, load))
                    task.add_done_callback(lambda _: in_flight.release())
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                await asyncio.sleep(max(0.0, start + (n + 1) / s.rate - time.monotonic()))
            await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _http_case(client: httpx.AsyncClient, url: str, doc: dict[str, Any], withdraw: bool,
                     load: Load) -> None:
    r = await _retrying(lambda: client.post(f"{url}/v1/cases", json=doc), load)
    assert r.status_code in (200, 201), r.text
    case_id = r.json()["case_id"]
    load.submitted.add((SOURCE, doc["external_id"]))
    load.http_ids.append(case_id)
    load.http += 1
    if withdraw:
        w = await _retrying(lambda: client.post(f"{url}/v1/cases/{case_id}/withdraw"), load)
        assert w.status_code == 200, w.text
        load.withdrawn.add(case_id)


async def review_some(rig: Rig, load: Load, stop: asyncio.Event) -> None:
    """A reviewers' client: opinions on `opinion_share` of the cases, over Kafka."""
    share = rig.settings.opinion_share
    producer = AIOKafkaProducer(bootstrap_servers=rig.system.infra.kafka, acks="all")
    await producer.start()
    try:
        while not stop.is_set():
            try:
                db = await asyncpg.connect(rig.system.infra.database_url, timeout=5)
                try:
                    rows = await db.fetch("SELECT assignment_id, case_id, specialist_id FROM"
                                          " matcher.assignments WHERE status = 'offered'")
                finally:
                    await db.close()
            except (OSError, asyncpg.PostgresError):
                rows = []  # PostgreSQL is being restarted
            for row in rows:
                if row["assignment_id"] in load.opinions:
                    continue
                if (int(row["case_id"].encode().hex()[-4:], 16) % 100) >= share * 100:
                    continue
                event = new_event("opinion.submit", source="chaos-reviewer-client",
                                  subject=row["case_id"], data={
                                      "assignment_id": row["assignment_id"],
                                      "specialist_id": row["specialist_id"],
                                      "diagnosis": "confirmed", "treatment_plan": "agreed",
                                      "summary": "Agree with the first opinion.",
                                      "report_uri": "https://records.example.org/opinion"})
                await producer.send_and_wait("specialist-actions", encode(event),
                                             key=row["case_id"].encode())
                load.opinions.add(row["assignment_id"])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)  # the client polls once a second
    finally:
        await producer.stop()


@dataclass
class Faults:
    kills: Counter[str] = field(default_factory=Counter)
    postgres_restarts: int = 0
    log: list[str] = field(default_factory=list)


async def inflict(rig: Rig, faults: Faults, load_done: asyncio.Event) -> None:
    """Rounds of SIGKILL + restart, every service once per round in random order; PostgreSQL
    restarted once in the first round."""
    s = rig.settings
    rng = random.Random(s.seed + 1)
    round_no = 0
    while round_no < s.rounds or (s.rounds == 0 and (round_no == 0 or not load_done.is_set())):
        victims: list[str] = list(SERVICES)
        rng.shuffle(victims)
        if round_no == 0:
            victims.insert(rng.randrange(1, len(victims)), "postgres")
        for victim in victims:
            await asyncio.sleep(s.kill_every)  # fault pacing, not synchronisation
            if victim == "postgres":
                await asyncio.to_thread(_restart_postgres, rig)
                faults.postgres_restarts += 1
            else:
                proc = rng.choice([p for n, p in rig.processes() if n == victim])
                # Each kill hits a running process (not one still starting from the last
                # kill), while other services may still be down: outages overlap.
                await asyncio.to_thread(wait_ready, [proc], 300)
                await asyncio.to_thread(_kill_and_restart, proc)
                faults.kills[victim] += 1
            faults.log.append(f"{time.strftime('%H:%M:%S')} {victim}")
            progress(f"restarted {victim}")
        round_no += 1


def _kill_and_restart(proc: Any) -> None:
    """SIGKILL, then start again at once; the next fault does not wait for it to be ready
    (a process may be killed again while it starts, or two be down at once)."""
    proc.kill()
    proc.start()


def _restart_postgres(rig: Rig) -> None:
    pg = rig.system.infra.postgres
    assert pg is not None and pg.proc is not None, "needs the embedded PostgreSQL"
    pg.proc.send_signal(signal.SIGQUIT)  # immediate shutdown: crash recovery at start
    pg.proc.wait(60)
    pg.start()


async def quiescent(rig: Rig, load: Load) -> bool:
    """Every case opened, its clock has run its course, every delivery settled, outboxes
    empty: the system has nothing left to do."""
    db = await asyncpg.connect(rig.system.infra.database_url)
    try:
        opened = await db.fetchval("SELECT count(*) FROM intake.cases WHERE source = $1", SOURCE)
        if opened < len(load.submitted):
            return False
        busy = await db.fetchval(
            "SELECT (SELECT count(*) FROM sla.timers WHERE fired_at IS NULL"
            "        AND due_at < now() - interval '1 second')"
            " + (SELECT count(*) FROM sla.clocks WHERE state = 'running'"
            "    AND deadline > now() - interval '2 seconds')"
            " + (SELECT count(*) FROM notify.deliveries WHERE status <> 'sent')"
            " + (SELECT count(*) FROM intake.outbox) + (SELECT count(*) FROM matcher.outbox)"
            " + (SELECT count(*) FROM sla.outbox) + (SELECT count(*) FROM notify.outbox)"
            " + (SELECT count(*) FROM notify.parked_events)")
        unconsumed = await db.fetchval(
            "SELECT count(*) FROM intake.cases c WHERE NOT EXISTS"
            " (SELECT 1 FROM sla.clocks k WHERE k.case_id = c.case_id)"
            " OR NOT EXISTS (SELECT 1 FROM matcher.cases m WHERE m.case_id = c.case_id)")
        progress(f"settling: {opened}/{len(load.submitted)} opened, {busy} busy, "
                 f"{unconsumed} not yet at matcher and sla")
        reviewed = await db.fetchval(
            "SELECT count(*) FROM matcher.assignments WHERE status = 'offered'"
            " AND assignment_id = ANY($1::text[])", sorted(load.opinions))
        return busy == 0 and unconsumed == 0 and reviewed == 0
    finally:
        await db.close()


def consumers() -> dict[str, list[tuple[str, set[str]]]]:
    found: dict[str, list[tuple[str, set[str]]]] = {}
    for name in SERVICES:
        for sub in load_spec(name).build(Runtime(name)).subscriptions:
            found.setdefault(str(sub.topic), []).append((f"{name}.{sub.topic}",
                                                         set(sub.handlers)))
    return found


async def history(rig: Rig, load: Load) -> invariants.History:
    bootstrap = rig.system.infra.kafka or ""
    events = {t: [decode(r.value) for r in await read_all(bootstrap, t)] for t in TOPICS}
    letters = [{k: v.decode(errors="replace") for k, v in r.headers}
               for r in await read_all(bootstrap, "dead-letters")]
    db = await asyncpg.connect(rig.system.infra.database_url)
    try:
        async def rows(sql: str) -> list[dict[str, Any]]:
            return [dict(r) for r in await db.fetch(sql)]

        inbox: set[tuple[str, str]] = set()
        outbox = {}
        for schema in SERVICES:
            inbox |= {(r["consumer"], r["event_id"]) for r in await db.fetch(
                f"SELECT consumer, event_id FROM {schema}.inbox")}
            outbox[schema] = int(await db.fetchval(f"SELECT count(*) FROM {schema}.outbox"))
        return invariants.History(
            submitted=load.submitted, withdrawn=load.withdrawn, events=events,
            dead_letters=letters,
            cases=await rows("SELECT case_id, source, external_id, status FROM intake.cases"),
            seats=await rows("SELECT case_id, seat, status, unmatched_reasons FROM matcher.seats"),
            assignments=await rows("SELECT assignment_id, case_id, seat, specialist_id, status"
                                   " FROM matcher.assignments"),
            specialists=await rows("SELECT id, active_count, max_active FROM matcher.specialists"),
            clocks=await rows("SELECT case_id, state, started_at FROM sla.clocks"),
            timers=await rows("SELECT case_id, step, due_at, fired_at FROM sla.timers"),
            deliveries=await rows("SELECT delivery_id, source_event_id, recipient, channel,"
                                  " status FROM notify.deliveries"),
            outbox=outbox, inbox=inbox, consumers=consumers(), received=rig.received(),
            cutoff=datetime.now(UTC) - timedelta(seconds=2), short=short_type)
    finally:
        await db.close()


@dataclass
class Outcome:
    checks: list[invariants.Check]
    load: Load
    faults: Faults
    seconds: dict[str, float]

    def report(self) -> str:
        f, ld = self.faults, self.load
        head = (f"chaos: {len(ld.submitted)} cases ({ld.http} HTTP, {ld.kafka} Kafka; "
                f"{len(ld.withdrawn)} withdrawn, {len(ld.opinions)} opinions), "
                f"{ld.retries} HTTP retries by the clients; SIGKILLs {dict(f.kills)}, "
                f"PostgreSQL restarts {f.postgres_restarts}; load "
                f"{self.seconds['load']:.0f} s, settle {self.seconds['settle']:.0f} s")
        return head + "\n" + invariants.table(self.checks)

    def as_json(self) -> str:
        return json.dumps({"kills": dict(self.faults.kills), "faults": self.faults.log,
                           "http": self.load.http, "kafka": self.load.kafka,
                           "withdrawn": len(self.load.withdrawn),
                           "opinions": len(self.load.opinions),
                           "http_retries": self.load.retries,
                           "postgres_restarts": self.faults.postgres_restarts,
                           "cases": len(self.load.submitted), "seconds": self.seconds,
                           "checks": [{"name": c.name, "checked": c.checked,
                                       "violated": len(c.violations), "note": c.note,
                                       "examples": c.violations[:5]} for c in self.checks]},
                          indent=2)


async def run(rig: Rig, settle_timeout: float = 600) -> Outcome:

    load, faults = Load(), Faults()
    load_done, stop_reviews = asyncio.Event(), asyncio.Event()
    started = time.monotonic()
    reviews = asyncio.create_task(review_some(rig, load, stop_reviews))
    killer = asyncio.create_task(inflict(rig, faults, load_done)) if rig.settings.chaos else None
    try:
        await submit_all(rig, load)
        load_done.set()
        if killer:
            await killer
            await asyncio.to_thread(wait_ready, [p for _, p in rig.processes()], 300)
    finally:
        load_done.set()
        stop_reviews.set()
        await reviews
        if killer and not killer.done():
            killer.cancel()
    loaded = time.monotonic()
    checks = await settle_and_check(rig, load, settle_timeout)
    return Outcome(checks, load, faults,
                   {"load": loaded - started, "settle": time.monotonic() - loaded})


async def settle_and_check(rig: Rig, load: Load,
                           settle_timeout: float = 600) -> list[invariants.Check]:
    """Wait until the system has nothing left to do, then check every invariant."""
    from ..support.waiting import eventually

    await eventually(lambda: quiescent(rig, load), timeout=settle_timeout, interval=1,
                     what="the system to settle")
    # Checked over the whole history; a check that fails is read again for a while in case
    # the last events were still being consumed (a violation that stays is reported).
    checks: list[invariants.Check] = []
    end = time.monotonic() + 60
    while True:
        checks = invariants.check(await history(rig, load))
        if all(not c.violations for c in checks) or time.monotonic() > end:
            break
        await asyncio.sleep(3)  # re-read after a pause, bounded by `end`
    alive = invariants.Check("every service process running at the end")
    for name, proc in rig.processes():
        alive.expect(proc.alive(), f"{name} exited; see {proc.log_path}")
    return [*checks, alive]
