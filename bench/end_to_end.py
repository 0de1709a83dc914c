"""OncoRoute end to end and its ceiling, in one run, on one embedded broker and PostgreSQL.

1. The four services as processes: cases flat out over Kafka and over HTTP, from
   submission to the specialist's notification recorded as sent (cases/s), with the CPU each
   process spent per case and PostgreSQL's commits per case.
2. Latency p50 / p99 / max at a fixed arrival rate: 50 cases/s and 80 % of the Kafka
   maximum just measured, with the time spent in each stage (submission -> case opened ->
   seat offered -> notification planned -> sent).
3. The ceiling on the same broker and database, before the services start and after they
   stop: `ceiling.measure`, minimal handlers with the same hops, batched transactions and
   messages per case. The system's ratio is to the mean of the two (and the range to either),
   each phase with a speed probe on either side: this shared machine's speed drifts by a
   third within minutes.

Prints one table (and JSON with --out). Figures are lower bounds on a shared machine; the
load average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

sys.path.insert(0, str(Path(__file__).parent))
import ceiling  # noqa: E402
from _system import cli, embedded_stack, running_system  # noqa: E402
from throughput import pct, submit_http, submit_kafka, wait_done  # noqa: E402

from oncoroute_shared.embedded.stack import Infrastructure, ServiceProcess  # noqa: E402
from oncoroute_shared.topics import ALL_TOPICS  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
STAGES = """
SELECT c.external_id, extract(epoch FROM c.opened_at) AS opened,
       extract(epoch FROM min(s.created_at)) AS seated,
       extract(epoch FROM min(a.offered_at)) AS offered,
       extract(epoch FROM min(d.created_at)) AS planned,
       extract(epoch FROM min(d.sent_at)) AS sent
FROM intake.cases c
JOIN matcher.seats s USING (case_id)
JOIN matcher.assignments a USING (case_id)
JOIN notify.deliveries d USING (case_id)
WHERE c.source = $1 AND d.audience = 'specialist' AND d.status = 'sent'
GROUP BY c.external_id, c.opened_at
"""


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def cpu_snapshot(infra: Infrastructure, procs: dict[str, ServiceProcess]) -> dict[str, float]:
    """CPU seconds so far: each service, PostgreSQL (postmaster and backends), the broker, and
    this driver."""
    snap = {name: _cpu_s(p.proc.pid) for name, p in procs.items() if p.proc}
    if infra.postgres and infra.postgres.proc:
        pm = infra.postgres.proc.pid
        snap["postgres"] = _cpu_s(pm) + sum(_cpu_s(c) for c in _children(pm))
    if infra.broker and infra.broker.proc:
        snap["broker"] = _cpu_s(infra.broker.proc.pid)
    t = os.times()
    snap["driver"] = t.user + t.system
    return snap


async def messages_on_topics(bootstrap: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        await consumer.topics()
        parts = [TopicPartition(t, p) for t in ALL_TOPICS
                 for p in consumer.partitions_for_topic(t) or ()]
        return sum((await consumer.end_offsets(parts)).values())
    finally:
        await consumer.stop()


async def commits(dsn: str) -> int:
    db = await asyncpg.connect(dsn)
    try:
        return int(await db.fetchval("SELECT xact_commit FROM pg_stat_database"
                                     " WHERE datname = current_database()"))
    finally:
        await db.close()


async def submit(mode: str, infra: Infrastructure, procs: dict[str, ServiceProcess],
                 key: str, source: str, n: int, rate: float) -> dict[str, float]:
    if mode == "kafka":
        return await submit_kafka(infra.kafka or "", source, n, rate)
    return await submit_http(procs["intake"].url, key, source, n, rate)


def new_source(infra: Infrastructure, label: str) -> tuple[str, str]:
    source = f"e2e-{label}-{uuid.uuid4().hex[:6]}"
    key = cli(infra.env(), "keys", "create", "--source", source).strip().split()[-1]
    return source, key


async def flat_out(mode: str, n: int, infra: Infrastructure,
                   procs: dict[str, ServiceProcess]) -> dict[str, Any]:
    dsn = infra.database_url or ""
    source, key = new_source(infra, f"{mode}-max")
    cpu0, commits0 = cpu_snapshot(infra, procs), await commits(dsn)
    messages0 = await messages_on_topics(infra.kafka or "")
    sent = await submit(mode, infra, procs, key, source, n, 0)
    done = await wait_done(dsn, source, n, 900)
    await settle(dsn)  # the CPU of the timeline and clocks the burst left behind counts too
    cpu1, commits1 = cpu_snapshot(infra, procs), await commits(dsn)
    messages = await messages_on_topics(infra.kafka or "") - messages0
    elapsed = max(done.values()) - min(sent.values())
    db = await asyncpg.connect(dsn)
    try:  # the patient's message is held in quiet hours: the ceiling then holds it too
        patient_sent = await db.fetchval(
            "SELECT count(*) FROM notify.deliveries d JOIN intake.cases c USING (case_id)"
            " WHERE c.source = $1 AND d.audience = 'patient' AND d.status = 'sent'", source)
    finally:
        await db.close()
    return {
        "mode": mode, "cases": n, "cases_per_s": round(n / elapsed, 1),
        "cpu_ms_per_case": {k: round((cpu1[k] - cpu0[k]) * 1000 / n, 2) for k in cpu1},
        "cpu_cores_busy": round(sum(cpu1[k] - cpu0[k] for k in cpu1 if k != "driver")
                                / elapsed, 2),
        "commits_per_case": round((commits1 - commits0) / n, 1),
        "messages_per_case": round(messages / n, 2),
        "patient_sends": patient_sent >= n / 2,
    }


SCHEMAS = ("intake", "matcher", "sla", "notify")
QUIET_S = 1.5  # three times the background consumers' fetch wait


async def settle(dsn: str, timeout: float = 300) -> float:
    """Seconds until the system has finished the work of the run before (a flat-out burst
    leaves timeline and clock events to catch up on, which would queue a fixed-rate run
    behind them): every outbox empty and no consumer's inbox growing for QUIET_S."""
    db = await asyncpg.connect(dsn)
    try:
        start = last_change = time.monotonic()
        seen = -1
        while time.monotonic() - start < timeout:
            row = await db.fetchrow("SELECT " + ", ".join(
                f"(SELECT count(*) FROM {s}.outbox) AS {s}_out,"
                f" (SELECT count(*) FROM {s}.inbox) AS {s}_in" for s in SCHEMAS))
            handled = sum(row[f"{s}_in"] for s in SCHEMAS)
            if handled != seen or any(row[f"{s}_out"] for s in SCHEMAS):
                seen, last_change = handled, time.monotonic()
            elif time.monotonic() - last_change >= QUIET_S:
                return round(last_change - start, 1)
            await asyncio.sleep(0.25)
        raise TimeoutError("the system did not settle")
    finally:
        await db.close()


async def at_rate(mode: str, rate: float, seconds: float, infra: Infrastructure,
                  procs: dict[str, ServiceProcess]) -> dict[str, Any]:
    dsn = infra.database_url or ""
    settled_s = await settle(dsn)
    n = max(100, int(rate * seconds))
    source, key = new_source(infra, f"{mode}-{int(rate)}")
    cpu0 = cpu_snapshot(infra, procs)
    sent = await submit(mode, infra, procs, key, source, n, rate)
    done = await wait_done(dsn, source, n, 900)
    cpu1, elapsed = cpu_snapshot(infra, procs), max(done.values()) - min(sent.values())
    latencies = [done[k] - sent[k] for k in sent]
    db = await asyncpg.connect(dsn)
    try:
        rows = await db.fetch(STAGES, source)
    finally:
        await db.close()
    stages: dict[str, list[float]] = {"submitted->opened": [], "opened->seated": [],
                                      "seated->offered": [], "offered->planned": [],
                                      "planned->sent": []}
    for r in rows:
        t0 = sent[r["external_id"]]
        for name, a, b in (("submitted->opened", t0, r["opened"]),
                           ("opened->seated", r["opened"], r["seated"]),
                           ("seated->offered", r["seated"], r["offered"]),
                           ("offered->planned", r["offered"], r["planned"]),
                           ("planned->sent", r["planned"], r["sent"])):
            stages[name].append(float(b) - float(a))
    return {
        "mode": mode, "rate": round(rate, 1), "cases": n, "settled_s": settled_s,
        "latency_ms": _ms(latencies),
        "cpu_cores_busy": {k: round((cpu1[k] - cpu0[k]) / elapsed, 2) for k in cpu1},
        "stages_ms": {name: _ms(values) for name, values in stages.items() if values},
    }


def speed_probe() -> float:
    """ms for a fixed pure-Python workload: the same code takes up to a third longer on this
    shared machine at some times than at others, with no steal time reported, so each run
    prints it before and after to tell a slow machine from slow code."""
    start = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i % 7
    return round((time.perf_counter() - start) * 1000, 1)


def _ms(values: list[float]) -> dict[str, float]:
    return {p: round(pct(values, q) * 1000, 1) for p, q in (("p50", 50), ("p99", 99),
                                                           ("max", 100))}


async def ceiling_run(infra: Infrastructure, args: argparse.Namespace, patient_sends: bool,
                      latency: bool) -> dict[str, Any]:
    """The ceiling with a speed probe on either side."""
    before = speed_probe()
    c = await ceiling.measure(infra.kafka or "", infra.database_url or "", args.ceiling_cases,
                              args.batch, patient_sends,
                              latency_rate=args.rates[0] if latency else None,
                              latency_seconds=args.seconds, fetch_wait_ms=args.fetch_wait_ms)
    c["speed_probe_ms"] = [before, speed_probe()]
    return c


async def run(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                              "load_before": os.getloadavg(), "speed_probe_ms": [speed_probe()]}
    with embedded_stack() as infra:
        # The ceiling before and after the system, so that the ratio compares like with like
        # on a machine whose speed drifts by a third within minutes: the system against the
        # mean of the two. The benchmark's patients are where it is daytime, so the patient's
        # acknowledgement is sent at once, by the services and the ceiling alike.
        if args.ceiling_cases:
            result["ceiling_before"] = await ceiling_run(infra, args, True, latency=False)
        wait = {"KAFKA_FETCH_MAX_WAIT_MS": str(args.fetch_wait_ms)}
        result["fetch_wait_ms"] = args.fetch_wait_ms
        with running_system(wait, infra=infra) as (_, procs):
            warm, _key = new_source(infra, "warm")
            await submit_kafka(infra.kafka or "", warm, 50, 0)
            await wait_done(infra.database_url or "", warm, 50, 120)
            result["throughput"] = []
            for mode in args.modes:
                before = speed_probe()
                t = await flat_out(mode, args.cases, infra, procs)
                t["speed_probe_ms"] = [before, speed_probe()]
                result["throughput"].append(t)
            kafka_max = next((t["cases_per_s"] for t in result["throughput"]
                              if t["mode"] == "kafka"), result["throughput"][0]["cases_per_s"])
            result["latency"] = [await at_rate(mode, rate, args.seconds, infra, procs)
                                 for rate in [*args.rates, 0.8 * kafka_max]
                                 for mode in args.modes]
            result["load_system"] = os.getloadavg()
        if args.ceiling_cases:
            result["ceiling"] = await ceiling_run(infra, args,
                                                  result["throughput"][0]["patient_sends"],
                                                  latency=True)
    result["load_after"] = os.getloadavg()
    result["speed_probe_ms"].append(speed_probe())
    if not args.ceiling_cases:
        return result
    tops = [result["ceiling_before"]["ceiling_cases_per_s"],
            result["ceiling"]["ceiling_cases_per_s"]]
    result["ceiling_mean_cases_per_s"] = round(sum(tops) / 2, 1)
    for t in result["throughput"]:
        t["of_ceiling"] = round(t["cases_per_s"] / result["ceiling_mean_cases_per_s"], 3)
        t["of_ceiling_range"] = sorted(round(t["cases_per_s"] / top, 3) for top in tops)
    return result


def table(r: dict[str, Any]) -> str:
    lines = ["| what | figure |", "|---|---|"]
    ceilings = [("ceiling before the system", r["ceiling_before"]),
                ("ceiling after the system", r["ceiling"])] if "ceiling" in r else []
    for t in r["throughput"]:
        lines.append(f"| {t['mode']} flat out, {t['cases']} cases | **{t['cases_per_s']} cases/s**"
                     + (" ({:.0%} of the ceilings' mean; {:.0%}-{:.0%} of either) |".format(
                         t["of_ceiling"], *t["of_ceiling_range"]) if ceilings else " |"))
    for label, c in ceilings:
        lines.append(f"| {label}, {c['cases']} cases, batches of {c['batch']},"
                     f" {c['messages_per_case']} messages/case |"
                     f" **{c['ceiling_cases_per_s']} cases/s**"
                     f" ({c['commits_per_case']} commits/case) |")
    c = r.get("ceiling", {})
    for lat in r["latency"]:
        ms = lat["latency_ms"]
        lines.append(f"| latency at {lat['rate']}/s, {lat['mode']}, {lat['cases']} cases"
                     f" (after {lat['settled_s']} s settling) |"
                     f" p50 {ms['p50']} ms, p99 {ms['p99']} ms, max {ms['max']} ms |")
    if "latency_ms" in c:
        ms = c["latency_ms"]
        lines.append(f"| ceiling's latency at {ms['rate']}/s, {ms['cases']} cases |"
                     f" p50 {ms['p50']} ms, p99 {ms['p99']} ms, max {ms['max']} ms |")
    lines.append("")
    lines.append("| stage p50 / p99 ms | " + " | ".join(
        f"{lat['rate']}/s {lat['mode']}" for lat in r["latency"]) + " |")
    lines.append("|---|" + "---|" * len(r["latency"]))
    for stage in r["latency"][0]["stages_ms"]:
        lines.append(f"| {stage} | " + " | ".join(
            f"{lat['stages_ms'][stage]['p50']} / {lat['stages_ms'][stage]['p99']}"
            for lat in r["latency"]) + " |")
    lines.append("")
    for t in r["throughput"]:
        cpu = ", ".join(f"{k} {v}" for k, v in t["cpu_ms_per_case"].items())
        lines.append(f"CPU ms per case ({t['mode']}): {cpu}; {t['cpu_cores_busy']} cores busy;"
                     f" {t['commits_per_case']} commits and {t['messages_per_case']} messages"
                     " per case")
    for lat in r["latency"]:
        busy = ", ".join(f"{k} {v}" for k, v in lat["cpu_cores_busy"].items())
        lines.append(f"cores busy at {lat['rate']}/s ({lat['mode']}): {busy}")
    lines.append(f"fetch wait (services and ceiling): {r['fetch_wait_ms']} ms")
    lines.append("speed probe before / after (ms, lower is faster): " + " / ".join(
        str(x) for x in r["speed_probe_ms"]) + "; around the ceiling before, each flat-out"
        " run, the ceiling after: " + ", ".join(
            "/".join(str(x) for x in part["speed_probe_ms"])
            for part in (*(c for _, c in ceilings[:1]), *r["throughput"],
                         *(c for _, c in ceilings[1:]))))
    lines.append("load average before / after the system / at the end: " + " / ".join(
        ", ".join(f"{x:.1f}" for x in r[k]) for k in ("load_before", "load_system",
                                                      "load_after")))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=2000, help="cases per flat-out run")
    parser.add_argument("--seconds", type=float, default=20, help="length of each latency run")
    parser.add_argument("--modes", type=lambda s: s.split(","), default=["kafka", "http"])
    parser.add_argument("--ceiling-cases", type=int, default=3000,
                        help="cases per ceiling measurement (0: the system alone, no ceiling)")
    parser.add_argument("--batch", type=int, default=100,
                        help="the ceiling's records per transaction (CONSUMER_BATCH_MAX)")
    parser.add_argument("--rates", type=lambda s: [float(x) for x in s.split(",")],
                        default=[50.0], help="fixed arrival rates for the latency runs"
                        " (cases/s; 80 %% of the Kafka maximum is always added)")
    parser.add_argument("--fetch-wait-ms", type=int, default=20,
                        help="KAFKA_FETCH_MAX_WAIT_MS of the services and the ceiling alike")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = time.time()
    result = asyncio.run(run(args))
    result["run_s"] = round(time.time() - started)
    print(table(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
