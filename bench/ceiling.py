"""The transport's ceiling: the same hops, transactions and messages per case as OncoRoute,
with minimal handlers (raw aiokafka + asyncpg), on the same embedded broker and PostgreSQL.

Four processes as in the real system, each with one consumer for its topics (one group per
process, as the services; intake's timeline topics and sla's in a second, background group
that waits for 64 KiB or 500 ms, as the services' do), committing a whole batch (up to
`--batch`, like `CONSUMER_BATCH_MAX`) in one transaction with its inbox rows, effects and
outbox rows, and Kafka offsets committed after that; a relay per process publishes the outbox
rows and deletes them in a transaction of its own. Per case:

- messages (6): case.submitted, case.opened, assignment.offered, sla.started and two
  notification.sent (the patient's and the specialist's), on six partitions per topic; 5 with
  `--patient-deferred` (the patient's message held for quiet hours, as the real policy does
  between 21:00 and 08:00 in the patient's time zone);
- consumer deliveries (10, or 9): intake 5 (submission, offer, sla.started, two notifications
  onto the timeline), matcher 1, sla 2, notify 2, each in a batched transaction;
- one dispatch transaction per up to 16 seats (matcher), a lease statement per up to 4
  deliveries and one transaction per delivery sent (notify, 4 sends in flight), as the real
  services do.

`--batch 1` commits every record on its own (the per-message ceiling).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).parent))
from _system import free_port  # noqa: E402

from oncoroute_shared.embedded.stack import Infrastructure  # noqa: E402
from oncoroute_shared.runtime import BACKGROUND_FETCH_MIN_BYTES  # noqa: E402


def _topics(run: str) -> tuple[str, str, str, str, str]:
    """A measurement's own topics (and consumer groups, below), so that a later measurement on
    the same broker starts as the first did. (On 2026-12-06 a later measurement went at half
    the speed of the first, 80-104 cases/s against 162-228, with the same CPU spent: it took
    the first one's warm-up cases for its own and started timing while its groups were still
    joining; the warm-up cases are now the measurement's own too.)"""
    names = ("submissions", "cases", "assignments", "sla", "notifications")
    return tuple(f"c{run}-{n}" for n in names)  # type: ignore[return-value]


RUN = os.environ.get("CEILING_RUN", "")  # set by `measure` for the processes it spawns
SUBMISSIONS, CASES, ASSIGNMENTS, SLA, NOTIFICATIONS = _topics(RUN)
TOPICS = [SUBMISSIONS, CASES, ASSIGNMENTS, SLA, NOTIFICATIONS]
SEND_SLOTS = 4  # notify's NOTIFY_CONCURRENCY default
SEATS_PER_TRANSACTION = 16  # the matcher's dispatcher GROUP
# intake's timeline and sla's clocks: the services' background consumer groups
BACKGROUND = {"intake": {ASSIGNMENTS, SLA, NOTIFICATIONS}, "sla": {CASES, ASSIGNMENTS}}
BACKGROUND_FETCH_WAIT_MS = 500  # KAFKA_BACKGROUND_FETCH_MAX_WAIT_MS's default
SCHEMA = """
CREATE SCHEMA IF NOT EXISTS ceiling;
SET search_path TO ceiling;
CREATE TABLE IF NOT EXISTS inbox (consumer text, event_id text, PRIMARY KEY (consumer, event_id));
CREATE TABLE IF NOT EXISTS outbox (id bigserial PRIMARY KEY, topic text, key text, value bytea);
CREATE TABLE IF NOT EXISTS cases (case_id text PRIMARY KEY, opened_at timestamptz);
CREATE TABLE IF NOT EXISTS timeline (event_id text PRIMARY KEY, case_id text, type text);
CREATE TABLE IF NOT EXISTS seats (case_id text PRIMARY KEY, status text);
CREATE TABLE IF NOT EXISTS clocks (case_id text PRIMARY KEY, offered boolean DEFAULT false);
CREATE TABLE IF NOT EXISTS copies (case_id text PRIMARY KEY);
CREATE TABLE IF NOT EXISTS deliveries (id bigserial PRIMARY KEY, case_id text, audience text,
    status text DEFAULT 'pending', lease_until timestamptz, sent_at timestamptz);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (id) WHERE status = 'pending';
"""

Effect = Callable[[asyncpg.Connection, list[dict], str], Awaitable[None]]


def event(kind: str, case: str) -> bytes:
    return orjson.dumps({"id": str(uuid.uuid4()), "type": kind, "case": case})


class Relay:
    """Outbox rows committed by this process, published in commit order, then deleted."""

    def __init__(self, pool: asyncpg.Pool, producer: AIOKafkaProducer) -> None:
        self.pool, self.producer = pool, producer
        self.queue: asyncio.Queue[list[asyncpg.Record]] = asyncio.Queue()

    async def run(self) -> None:
        while True:
            rows = await self.queue.get()
            while not self.queue.empty() and len(rows) < 500:
                rows += self.queue.get_nowait()
            futures = [await self.producer.send(r["topic"], r["value"], key=r["key"].encode())
                       for r in rows]
            await asyncio.gather(*futures)
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])",
                                   [r["id"] for r in rows])


async def emit(conn: asyncpg.Connection, topic: str, kind: str, cases: list[str]
               ) -> list[asyncpg.Record]:
    return await conn.fetch(
        "INSERT INTO outbox (topic, key, value) SELECT $1, c, v FROM unnest($2::text[],"
        " $3::bytea[]) AS t(c, v) RETURNING id, topic, key, value",
        topic, cases, [event(kind, c) for c in cases])


async def consume(name: str, effects: dict[str, Effect], pool: asyncpg.Pool, relay: Relay,
                  outboxes: dict[str, list], bootstrap: str, batch: int, fetch_wait_ms: int,
                  committed: asyncio.Event, fetch_min_bytes: int = 1) -> None:
    """One consumer for the process's topics, as the services have (one group each, and one
    more for background topics)."""
    consumer = AIOKafkaConsumer(*effects, bootstrap_servers=bootstrap, group_id=f"{name}{RUN}",
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                fetch_max_wait_ms=fetch_wait_ms, fetch_min_bytes=fetch_min_bytes)
    await consumer.start()
    while True:
        got = await consumer.getmany(timeout_ms=200, max_records=batch)
        by_topic: dict[str, list] = {}
        for tp, recs in got.items():
            by_topic.setdefault(tp.topic, []).extend(recs)
        for topic, records in by_topic.items():
            outbox = outboxes[topic]
            chunk = [orjson.loads(r.value) for r in records]
            async with pool.acquire() as conn, conn.transaction():
                fresh = await conn.fetch(
                    "INSERT INTO inbox SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING"
                    " RETURNING event_id", f"{name}.{topic}", [e["id"] for e in chunk])
                ids = {r["event_id"] for r in fresh}
                outbox.clear()
                await effects[topic](conn, [e for e in chunk if e["id"] in ids], topic)
                rows = list(outbox)
            if rows:
                relay.queue.put_nowait(rows)
            committed.set()  # wakes this process's dispatcher or delivery worker
        if by_topic:
            await consumer.commit()


def intake_effects(outbox: list) -> dict[str, Effect]:
    async def submitted(conn: asyncpg.Connection, events: list[dict], _t: str) -> None:
        cases = [e["case"] for e in events]
        await conn.execute("INSERT INTO cases SELECT unnest($1::text[]), now()"
                           " ON CONFLICT DO NOTHING", cases)
        outbox.extend(await emit(conn, CASES, "case.opened", cases))
        await conn.execute("INSERT INTO timeline SELECT gen_random_uuid()::text,"
                           " unnest($1::text[]), 'case.opened'", cases)

    async def timeline(conn: asyncpg.Connection, events: list[dict], _t: str) -> None:
        await conn.execute("INSERT INTO timeline SELECT unnest($1::text[]), unnest($2::text[]),"
                           " unnest($3::text[]) ON CONFLICT DO NOTHING",
                           [e["id"] for e in events], [e["case"] for e in events],
                           [e["type"] for e in events])

    return {SUBMISSIONS: submitted, ASSIGNMENTS: timeline, SLA: timeline,
            NOTIFICATIONS: timeline}


async def _matcher(pool: asyncpg.Pool, relay: Relay, outbox: list, wake: asyncio.Event
                   ) -> dict[str, Effect]:
    async def opened(conn: asyncpg.Connection, events: list[dict], _t: str) -> None:
        await conn.execute("INSERT INTO seats SELECT unnest($1::text[]), 'waiting'"
                           " ON CONFLICT DO NOTHING", [e["case"] for e in events])

    async def dispatcher() -> None:  # up to 16 seats per transaction, as the real dispatcher
        while True:
            await wake.wait()
            wake.clear()
            waiting = await pool.fetch("SELECT case_id FROM seats WHERE status = 'waiting'"
                                       " LIMIT 500")
            for start in range(0, len(waiting), SEATS_PER_TRANSACTION):
                rows = []
                async with pool.acquire() as conn, conn.transaction():
                    for row in waiting[start:start + SEATS_PER_TRANSACTION]:
                        await conn.fetchrow("SELECT * FROM seats WHERE case_id = $1"
                                            " FOR UPDATE", row["case_id"])
                        await conn.execute("UPDATE seats SET status = 'offered'"
                                           " WHERE case_id = $1", row["case_id"])
                        rows += await emit(conn, ASSIGNMENTS, "assignment.offered",
                                           [row["case_id"]])
                relay.queue.put_nowait(rows)
            if len(waiting) == 500:
                wake.set()

    asyncio.get_running_loop().create_task(dispatcher())
    return {CASES: opened}


def sla_effects(outbox: list) -> dict[str, Effect]:
    async def opened(conn: asyncpg.Connection, events: list[dict], _t: str) -> None:
        cases = [e["case"] for e in events]
        await conn.execute("INSERT INTO clocks SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
                           cases)
        outbox.extend(await emit(conn, SLA, "sla.started", cases))

    async def offered(conn: asyncpg.Connection, events: list[dict], _t: str) -> None:
        await conn.execute("UPDATE clocks SET offered = true WHERE case_id = ANY($1::text[])",
                           [e["case"] for e in events])

    return {CASES: opened, ASSIGNMENTS: offered}


async def _notify(pool: asyncpg.Pool, relay: Relay, wake: asyncio.Event,
                  patient_sends: bool) -> dict[str, Effect]:
    async def plan(conn: asyncpg.Connection, events: list[dict], topic: str) -> None:
        cases = [e["case"] for e in events]
        if topic == CASES:
            await conn.execute("INSERT INTO copies SELECT unnest($1::text[])"
                               " ON CONFLICT DO NOTHING", cases)
        patient = topic == CASES
        await conn.execute("INSERT INTO deliveries (case_id, audience, status)"
                           " SELECT unnest($1::text[]), $2, $3", cases,
                           "patient" if patient else "specialist",
                           "deferred" if patient and not patient_sends else "pending")

    inflight: set[asyncio.Task[None]] = set()

    async def send(row: asyncpg.Record) -> None:  # one transaction per delivery sent
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("UPDATE deliveries SET status = 'sent', sent_at = clock_timestamp(),"
                               " lease_until = NULL WHERE id = $1", row["id"])
            rows = await emit(conn, NOTIFICATIONS, "notification.sent", [row["case_id"]])
        relay.queue.put_nowait(rows)

    def done(task: asyncio.Task[None]) -> None:
        inflight.discard(task)
        wake.set()

    async def worker() -> None:
        while True:
            await wake.wait()
            wake.clear()
            free = SEND_SLOTS - len(inflight)
            if free <= 0:
                continue
            rows = await pool.fetch(  # one statement, as notify's lease of every channel
                "UPDATE deliveries SET lease_until = now() + interval '30 s' WHERE id IN ("
                " SELECT id FROM deliveries WHERE status = 'pending' AND lease_until IS NULL"
                " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING id, case_id", free)
            for row in rows:
                task = asyncio.get_running_loop().create_task(send(row))
                inflight.add(task)
                task.add_done_callback(done)

    asyncio.get_running_loop().create_task(worker())
    return {CASES: plan, ASSIGNMENTS: plan}


async def _serve(name: str, bootstrap: str, dsn: str, batch: int, patient_sends: bool,
                 fetch_wait_ms: int) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10,
                                     server_settings={"search_path": "ceiling"})
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    relay = Relay(pool, producer)
    outboxes: dict[str, list] = {t: [] for t in TOPICS}
    wake = asyncio.Event()
    if name == "intake":
        effects = intake_effects(outboxes[SUBMISSIONS])
    elif name == "matcher":
        effects = await _matcher(pool, relay, outboxes[CASES], wake)
    elif name == "sla":
        effects = sla_effects(outboxes[CASES])
    else:
        effects = await _notify(pool, relay, wake, patient_sends)
    background = {t: e for t, e in effects.items() if t in BACKGROUND.get(name, ())}
    urgent = {t: e for t, e in effects.items() if t not in background}
    consumers = [consume(name, urgent, pool, relay, outboxes, bootstrap, batch, fetch_wait_ms,
                         wake)] if urgent else []
    if background:  # as the services: larger, later batches off the path to the reviewer
        consumers.append(consume(f"{name}.background", background, pool, relay, outboxes,
                                 bootstrap, batch, BACKGROUND_FETCH_WAIT_MS, wake,
                                 BACKGROUND_FETCH_MIN_BYTES))
    await asyncio.gather(relay.run(), *consumers)


def _process(name: str, bootstrap: str, dsn: str, batch: int, patient_sends: bool,
             fetch_wait_ms: int) -> None:
    asyncio.run(_serve(name, bootstrap, dsn, batch, patient_sends, fetch_wait_ms))


async def measure(bootstrap: str, dsn: str, cases: int, batch: int = 100,
                  patient_sends: bool = True, partitions: int = 6, fetch_wait_ms: int = 20,
                  latency_rate: float | None = None, latency_seconds: float = 10) -> dict:
    """Start the four minimal processes on this broker and database, push `cases` through
    flat out and return cases/s from the first submission to the last specialist's send;
    with `latency_rate`, also the latency from submission to the specialist's send of cases
    submitted at that rate (the transport's own latency at that load)."""
    db = await asyncpg.connect(dsn)
    await db.execute(SCHEMA)
    run_id = f"-{uuid.uuid4().hex[:6]}"
    os.environ["CEILING_RUN"] = run_id  # the spawned processes' topics and groups
    topics = _topics(run_id)
    submissions = topics[0]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(t, partitions, 1) for t in topics])
    await admin.close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process, args=(name, bootstrap, dsn, batch, patient_sends,
                                                fetch_wait_ms),
                         daemon=True) for name in ("intake", "matcher", "sla", "notify")]
    for p in procs:
        p.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        async def send(n: int, prefix: str) -> None:
            futs = [await producer.send(submissions, event("case.submitted", f"{prefix}{i}"),
                                        key=f"{prefix}{i}".encode()) for i in range(n)]
            await asyncio.gather(*futs)

        async def until(prefix: str, n: int) -> float:
            deadline = time.time() + 900
            while time.time() < deadline:
                row = await db.fetchrow(
                    "SELECT count(*) AS n, max(sent_at) AS last FROM ceiling.deliveries"
                    " WHERE audience = 'specialist' AND status = 'sent' AND case_id LIKE $1",
                    f"{prefix}%")
                if row["n"] >= n:
                    return float(row["last"].timestamp())
                await asyncio.sleep(0.2)  # polling rows another process writes
            raise TimeoutError(f"ceiling: fewer than {n} cases through")

        # Warm up until every consumer group, the background ones too, has joined and taken
        # its share: a measurement that starts while groups are still joining (several
        # seconds each on this broker) measures the joining. The warm cases are this
        # measurement's own (an earlier measurement's would satisfy the wait at once).
        warm = f"warm{run_id}-"
        await send(20, warm)
        await until(warm, 20)
        deadline = time.time() + 120
        while time.time() < deadline:
            if await db.fetchval(
                    "SELECT (SELECT count(*) FROM ceiling.timeline WHERE case_id LIKE $1"
                    "        AND type = 'notification.sent') >= 20"
                    " AND (SELECT count(*) FROM ceiling.clocks WHERE case_id LIKE $1) >= 20",
                    f"{warm}%"):
                break
            await asyncio.sleep(0.2)  # polling rows other processes write
        else:
            raise TimeoutError("ceiling: the background groups took no warm case")
        run = f"run{uuid.uuid4().hex[:6]}-"
        commits0 = await db.fetchval("SELECT xact_commit FROM pg_stat_database"
                                     " WHERE datname = current_database()")
        start = time.time()
        await send(cases, run)
        last = await until(run, cases)
        commits = await db.fetchval("SELECT xact_commit FROM pg_stat_database"
                                    " WHERE datname = current_database()") - commits0
        latency = None
        if latency_rate:
            n = max(100, int(latency_rate * latency_seconds))
            prefix, sent = f"lat{uuid.uuid4().hex[:6]}-", {}
            t0 = time.time()
            futs = []
            for i in range(n):
                await asyncio.sleep(max(0.0, t0 + i / latency_rate - time.time()))
                sent[f"{prefix}{i}"] = time.time()
                futs.append(await producer.send(
                    submissions, event("case.submitted", f"{prefix}{i}"),
                    key=f"{prefix}{i}".encode()))
            await asyncio.gather(*futs)
            await until(prefix, n)
            rows = await db.fetch(
                "SELECT case_id, extract(epoch FROM sent_at) AS at FROM ceiling.deliveries"
                " WHERE audience = 'specialist' AND status = 'sent' AND case_id LIKE $1",
                f"{prefix}%")
            ms = sorted((float(r["at"]) - sent[r["case_id"]]) * 1000 for r in rows)
            latency = {"rate": latency_rate, "cases": n,
                       **{k: round(ms[min(len(ms) - 1, int(q * len(ms)))], 1)
                          for k, q in (("p50", 0.5), ("p99", 0.99))},
                       "max": round(ms[-1], 1)}
    finally:
        await producer.stop()
        await db.close()
        for p in procs:
            p.terminate()
        for p in procs:
            p.join(10)
    return {"cases": cases, "batch": batch,
            "ceiling_cases_per_s": round(cases / (last - start), 1),
            "messages_per_case": 6 if patient_sends else 5,
            "consumer_deliveries_per_case": 10 if patient_sends else 9,
            "commits_per_case": round(commits / cases, 1), "fetch_wait_ms": fetch_wait_ms,
            **({"latency_ms": latency} if latency else {})}


async def run(cases: int, batch: int, patient_sends: bool, rate: float | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="oncoroute-ceiling-") as tmp:
        infra = Infrastructure(Path(tmp), broker_port=free_port(), pg_port=free_port()).start()
        try:
            return await measure(infra.kafka or "", infra.database_url or "", cases, batch,
                                 patient_sends, latency_rate=rate)
        finally:
            infra.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=100,
                        help="records per consumer transaction (1 = per message)")
    parser.add_argument("--patient-deferred", action="store_true",
                        help="hold the patient's message (quiet hours): 5 messages per case")
    parser.add_argument("--rate", type=float,
                        help="also the latency of cases submitted at this rate (cases/s)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = asyncio.run(run(args.cases, args.batch, not args.patient_deferred, args.rate))
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
