"""Sustained cases/s and latency, submission -> specialist's notification recorded.

All four services run as separate processes on the embedded stack (Tansu + PostgreSQL).
Submissions go over Kafka (`case-submissions`) or HTTP (`POST /v1/cases`, with an API key).
A case counts as done when notify has recorded the specialist's delivery as sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).parent))
from _system import cli, running_system  # noqa: E402

from oncoroute_shared.envelope import encode, new_event  # noqa: E402

DIAGNOSES = [("C50.9", "8500/3"), ("C34.1", "8140/3"), ("C18.7", "8140/3"), ("C61", "8140/3")]


def daytime_zone(now: datetime | None = None) -> str:
    """A zone where it is about 14:00 now: the patient's acknowledgement then goes out at once
    (quiet hours hold it from 21:00 to 08:00), so every run does the same work per case (six
    messages, three sends) whatever the hour. Until 2026-12-06 the benchmarks' patients were in
    Europe/London, and runs between 21:00 and 08:00 UTC did less (five, two)."""
    offset = (14 - (now or datetime.now(UTC)).hour + 12) % 24 - 12  # UTC-12 .. UTC+11
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")  # Etc/GMT-5 is UTC+5


PATIENT_ZONE = daytime_zone()


def submission(source: str, n: int) -> dict:
    icd10, morph = DIAGNOSES[n % len(DIAGNOSES)]
    return {
        "source": source, "external_id": f"bench-{n}",
        "patient": {"reference": f"P{n}", "age": 50, "sex": "female", "language": "en",
                    "country": "GB", "timezone": PATIENT_ZONE,
                    "contact": {"email": "p@example.org"},
                    "consent": {"email": True, "sms": False}},
        "diagnosis": {"icd10": icd10, "icd_o3_morphology": morph},
        "reasons": ["reassurance"],
        "records": [{"kind": "pathology_report", "uri": "https://r.example.org/1"}],
    }


async def submit_kafka(bootstrap: str, source: str, n: int, rate: float) -> dict[str, float]:
    sent: dict[str, float] = {}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        start = time.time()
        futures = []
        for i in range(n):
            if rate:
                await asyncio.sleep(max(0.0, start + i / rate - time.time()))
            doc = submission(source, i)
            event = new_event("case.submitted", source=source, subject=doc["external_id"],
                              data=doc)
            sent[doc["external_id"]] = time.time()
            futures.append(await producer.send("case-submissions", encode(event),
                                               key=doc["external_id"].encode()))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return sent


async def submit_http(url: str, key: str, source: str, n: int, rate: float,
                      concurrency: int = 32) -> dict[str, float]:
    sent: dict[str, float] = {}
    sem = asyncio.Semaphore(concurrency)
    start = time.time()
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"},
                                 timeout=60, limits=httpx.Limits(
                                     # drop an idle connection before uvicorn does (5 s): a
                                     # request sent as the server closes it fails to read
                                     max_connections=concurrency, keepalive_expiry=3)) as c:
        async def one(i: int) -> None:
            if rate:
                await asyncio.sleep(max(0.0, start + i / rate - time.time()))
            async with sem:
                doc = submission(source, i)
                sent[doc["external_id"]] = time.time()
                r = await c.post("/v1/cases", json=doc)
                r.raise_for_status()

        await asyncio.gather(*(one(i) for i in range(n)))
    return sent


async def wait_done(dsn: str, source: str, n: int, timeout: float) -> dict[str, float]:
    db = await asyncpg.connect(dsn)
    try:
        end = time.time() + timeout
        while time.time() < end:
            rows = await db.fetch(
                "SELECT c.external_id, min(d.sent_at) AS sent_at FROM notify.deliveries d"
                " JOIN intake.cases c USING (case_id) WHERE c.source = $1"
                " AND d.status = 'sent' AND d.audience = 'specialist' GROUP BY c.external_id",
                source)
            if len(rows) >= n:
                return {r["external_id"]: r["sent_at"].timestamp() for r in rows}
            await asyncio.sleep(1)
        raise TimeoutError(f"only {len(rows)} of {n} cases reached the specialist")
    finally:
        await db.close()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def run(args: argparse.Namespace) -> dict:
    with running_system() as (infra, procs):
        source = f"bench-{uuid.uuid4().hex[:6]}"
        key = cli(infra.env(), "keys", "create", "--source", source).strip().split()[-1]
        warm = f"{source}-warm"
        cli(infra.env(), "keys", "create", "--source", warm)
        await submit_kafka(infra.kafka or "", warm, 20, 0)
        await wait_done(infra.database_url or "", warm, 20, 120)
        if args.mode == "kafka":
            sent = await submit_kafka(infra.kafka or "", source, args.cases, args.rate)
        else:
            sent = await submit_http(procs["intake"].url, key, source, args.cases, args.rate)
        done = await wait_done(infra.database_url or "", source, args.cases, args.timeout)
    latencies = [done[k] - sent[k] for k in sent]
    elapsed = max(done.values()) - min(sent.values())
    result = {
        "mode": args.mode, "cases": args.cases, "rate": args.rate or "max",
        "throughput_cases_per_s": round(args.cases / elapsed, 1),
        "latency_ms": {p: round(pct(latencies, q) * 1000, 1)
                       for p, q in (("p50", 50), ("p99", 99), ("max", 100))},
        "mean_ms": round(statistics.mean(latencies) * 1000, 1),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=0, help="arrivals per second; 0 = flat out")
    parser.add_argument("--mode", choices=["kafka", "http"], default="kafka")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
