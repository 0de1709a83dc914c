"""The transport's ceiling: the same hops, transactions and messages per case as OncoRoute,
with minimal handlers (raw aiokafka + asyncpg), on the same embedded broker and PostgreSQL.

Per case: 5 messages (submitted, opened, offered, started, sent) and 9 transactions, in four
processes as in the real system (intake 1 + 3 timeline rows, matcher 1, sla 2, notify 2).
Each transaction stores an inbox row with its effect; offsets are committed after the batch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).parent))
from _system import free_port  # noqa: E402

from oncoroute_shared.embedded.stack import Infrastructure  # noqa: E402

TOPICS = ["c-submissions", "c-cases", "c-assignments", "c-sla", "c-notifications"]
SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (consumer text, event_id text, PRIMARY KEY (consumer, event_id));
CREATE TABLE IF NOT EXISTS effects (id bigserial PRIMARY KEY, consumer text, case_id text,
                                    at timestamptz DEFAULT clock_timestamp());
"""
# consumer name -> (topic in, topic out or None, transactions per message)
ROLES = {
    "intake": [("c-submissions", "c-cases", 1), ("c-assignments", None, 1),
               ("c-sla", None, 1), ("c-notifications", None, 1)],
    "matcher": [("c-cases", "c-assignments", 1)],
    "sla": [("c-cases", "c-sla", 1), ("c-assignments", None, 1)],
    "notify": [("c-assignments", "c-notifications", 2)],
}


async def _consume(name: str, topic: str, out: str | None, txns: int, bootstrap: str,
                   dsn: str) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"{name}-{topic}",
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await producer.start()
    await consumer.start()
    while True:
        batch = await consumer.getmany(timeout_ms=200, max_records=500)
        futures = []
        for records in batch.values():
            for rec in records:
                event = orjson.loads(rec.value)
                async with pool.acquire() as conn:
                    for step in range(txns):
                        async with conn.transaction():
                            await conn.execute(
                                "INSERT INTO inbox VALUES ($1, $2) ON CONFLICT DO NOTHING",
                                f"{name}.{topic}.{step}", event["id"])
                            await conn.execute(
                                "INSERT INTO effects (consumer, case_id) VALUES ($1, $2)",
                                f"{name}.{topic}", event["case"])
                if out:
                    nxt = orjson.dumps({"id": str(uuid.uuid4()), "case": event["case"]})
                    futures.append(await producer.send(out, nxt, key=rec.key))
        if futures:
            await asyncio.gather(*futures)
        if batch:
            await consumer.commit()


def _process(name: str, bootstrap: str, dsn: str) -> None:
    async def main() -> None:
        await asyncio.gather(*(_consume(name, t, o, n, bootstrap, dsn)
                               for t, o, n in ROLES[name]))

    asyncio.run(main())


async def run(cases: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="oncoroute-ceiling-") as tmp:
        infra = Infrastructure(Path(tmp), broker_port=free_port(), pg_port=free_port()).start()
        procs = []
        try:
            bootstrap, dsn = infra.kafka or "", infra.database_url or ""
            db = await asyncpg.connect(dsn)
            await db.execute(SCHEMA)
            admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
            await admin.start()
            await admin.create_topics([NewTopic(t, 6, 1) for t in TOPICS])
            await admin.close()
            for name in ROLES:
                p = multiprocessing.Process(target=_process, args=(name, bootstrap, dsn),
                                            daemon=True)
                p.start()
                procs.append(p)
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
            await producer.start()

            async def send(n: int, prefix: str) -> None:
                futs = [await producer.send("c-submissions", orjson.dumps(
                    {"id": str(uuid.uuid4()), "case": f"{prefix}{i}"}), key=f"{prefix}{i}".encode())
                    for i in range(n)]
                await asyncio.gather(*futs)

            async def done(prefix: str) -> int:
                return int(await db.fetchval(
                    "SELECT count(*) FROM effects WHERE consumer = 'intake.c-notifications'"
                    " AND case_id LIKE $1", f"{prefix}%"))

            async def until(prefix: str, n: int) -> None:
                deadline = time.time() + 900
                while await done(prefix) < n and time.time() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)  # polling rows another process writes

            await send(20, "warm")
            await until("warm", 20)
            start = time.time()
            await send(cases, "run")
            await until("run", cases)
            elapsed = time.time() - start
            await producer.stop()
            await db.close()
        finally:
            for p in procs:
                p.terminate()
            infra.stop()
    return {"cases": cases, "ceiling_cases_per_s": round(cases / elapsed, 1),
            "messages_per_case": 5, "transactions_per_case": 9}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = asyncio.run(run(args.cases))
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
