"""Decision time per seat with 100, 1,000 and 10,000 specialists.

Two measurements, each over the same synthetic roster (12 tumour groups, 8 roles, working
hours, cancer-type expertise, random loads; seeded):

- `ranking`: the pure decision, `choose()`, over the candidates the database returns for a
  seat (tumour group, role, active, capacity left, not on the case) and, for the slow path,
  over the whole tumour group (what runs when nobody is eligible, to count the reasons).
- `dispatch` (with `--db`): the whole transaction the dispatcher runs per seat on the embedded
  PostgreSQL: lock the case, load the candidates and their absences, choose, take capacity,
  insert the assignment, write `assignment.offered` to the outbox, commit.

    .venv/bin/python bench/matcher_decision.py [--seats 2000] [--db] [--out results.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from oncoroute_matcher.bootstrap import validate_policy
from oncoroute_matcher.domain.panel import Deadlines, MatchingConfig, seats_for
from oncoroute_matcher.domain.ranking import SeatNeed, choose
from oncoroute_matcher.domain.roster import Specialist
from oncoroute_shared.policy import load_document

GROUPS = ["head_and_neck", "gastrointestinal", "thoracic", "sarcoma", "skin", "breast",
          "gynaecologic", "genitourinary", "neuro", "endocrine", "unknown_primary",
          "haematologic"]
ROLES = ["medical_oncologist", "surgical_oncologist", "radiation_oncologist", "haematologist",
         "pathologist", "haematopathologist", "radiologist", "paediatric_oncologist"]
CODES = ["C50.9", "C34.1", "C18.7", "C61", "C92.0", "C92.4", "C71.9", "C56", "C83.3"]
ZONES = ["UTC", "Europe/London", "Asia/Kolkata", "America/New_York", "Europe/Berlin"]
HOURS = [None, None, "mon-fri 08:00-18:00", "mon-thu 08:00-18:00|fri 08:00-13:00"]
NOW = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)


def roster(n: int, rng: random.Random) -> list[Specialist]:
    people = []
    for i in range(n):
        cap = rng.randint(4, 12)
        people.append(Specialist(
            id=f"sp-{i:05d}", name=f"Dr {i}", roles=rng.sample(ROLES, rng.choice([1, 1, 2])),
            tumor_groups=rng.sample(GROUPS, rng.choice([1, 2, 3])),
            cancer_types={c: rng.choice(["general", "expert"])
                          for c in rng.sample(CODES, rng.choice([0, 0, 1, 2]))},
            max_active=cap, active_count=rng.randint(0, cap), languages=["en"],
            regions=rng.sample(["GB", "IN", "US", "DE"], 2), institution=f"Inst {i % 300}",
            timezone=rng.choice(ZONES), working_hours=rng.choice(HOURS),
            on_call=rng.random() < 0.05,
            last_assigned_at=NOW - timedelta(minutes=rng.randint(0, 10000))))
    return people


def needs(count: int, cfg: MatchingConfig, rng: random.Random) -> list[SeatNeed]:
    found = []
    for i in range(count):
        group = rng.choice(GROUPS)
        reasons = rng.sample(["confirm_diagnosis", "surgery_recommended", "rare_cancer",
                              "unclear_test_results", "treatment_options"], 2)
        plan = rng.choice(seats_for(cfg.policy, group, reasons, ["imaging"]))
        fast = rng.random() < 0.2
        tier = "fast_progressing" if fast else "standard"
        found.append(SeatNeed(
            case_id=f"c{i}", seat=plan.seat, role=plan.role_label, tumor_group=group,
            first_opinion_physician="ext-1", first_opinion_institution=f"Inst {i % 300}",
            roles=plan.roles, icd10=rng.choice(CODES), require_expert=plan.require_expert,
            fast_progressing=fast, patient_region=rng.choice(["GB", "IN", "US"]),
            deadline=cfg.deadline(tier, NOW), review_time=cfg.review_time(tier)))
    return found


def superset(people: list[Specialist], need: SeatNeed) -> list[Specialist]:
    """What `adapters.roster.candidates_with_leave` returns."""
    return [s for s in people if need.tumor_group in s.tumor_groups and s.active
            and (not need.roles or not need.roles.isdisjoint(s.roles))
            and s.active_count < s.max_active and s.id not in need.excluded]


def stats(samples: list[float]) -> dict[str, float]:
    ms = sorted(x * 1000 for x in samples)
    q = statistics.quantiles(ms, n=100)
    return {"p50_ms": round(q[49], 3), "p95_ms": round(q[94], 3), "p99_ms": round(q[98], 3),
            "max_ms": round(ms[-1], 3)}


def bench_ranking(n: int, seats: int, cfg: MatchingConfig) -> dict[str, Any]:
    rng = random.Random(n)
    people = roster(n, rng)
    fast, fast_cpu, slow, sizes = [], [], [], []
    for need in needs(seats, cfg, rng):
        pool = superset(people, need)  # built outside the timing, as the database does
        sizes.append(len(pool))
        t, c = time.perf_counter(), time.thread_time()
        choose(pool, need, NOW)
        fast.append(time.perf_counter() - t)
        fast_cpu.append(time.thread_time() - c)
        group = [s for s in people if need.tumor_group in s.tumor_groups]
        t = time.perf_counter()
        choose(group, need, NOW)
        slow.append(time.perf_counter() - t)
    # wall time includes being descheduled on a busy machine; CPU time is the decision's cost
    return {"specialists": n, "candidates_mean": round(statistics.mean(sizes)),
            "choose": stats(fast), "choose_cpu": stats(fast_cpu), "whole_group": stats(slow)}


async def bench_dispatch(n: int, seats: int, cfg: MatchingConfig, dsn: str) -> dict[str, Any]:
    from oncoroute_matcher.adapters import roster as roster_sql
    from oncoroute_matcher.adapters import seats as seats_sql
    from oncoroute_matcher.domain.panel import SeatPlan
    from oncoroute_matcher.entrypoints.cli import MIGRATIONS
    from oncoroute_matcher.handlers.dispatch import dispatch_seat
    from oncoroute_shared.db.migrations import migrate
    from oncoroute_shared.db.pool import create_pool

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    pool = await create_pool(dsn, schema, 2)
    rng = random.Random(n)
    people = [s.model_copy(update={"active_count": 0, "max_active": 1000})
              for s in roster(n, rng)]
    samples: list[float] = []
    try:
        async with pool.acquire() as conn:
            await migrate(conn, schema, MIGRATIONS)
            await roster_sql.upsert(conn, people, NOW)
            await conn.execute("UPDATE specialists SET active_count = max_active / 2")
            for i, need in enumerate(needs(seats, cfg, rng)):
                facts = seats_sql.CaseFacts(
                    f"case-{i}", "standard", need.fast_progressing, need.tumor_group,
                    need.icd10, need.patient_region, None, "ext-1",
                    need.first_opinion_institution, NOW, need.deadline or NOW, True)
                async with conn.transaction():
                    await seats_sql.create_cases(conn, [facts], NOW)
                    await seats_sql.create_seats(conn, [(facts, SeatPlan(
                        need.seat, need.roles, need.require_expert), {})], NOW)
                t = time.perf_counter()
                async with conn.transaction():
                    await dispatch_seat(conn, facts.case_id, need.seat, cfg, NOW)
                samples.append(time.perf_counter() - t)
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await pool.close()
    return {"specialists": n, "dispatch": stats(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seats", type=int, default=2000)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--db", action="store_true", help="also time the whole transaction")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    doc = load_document(None)
    cfg = MatchingConfig(validate_policy(doc), Deadlines.from_policy(doc))
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[str, Any] = {"load_average_before": os.getloadavg(),
                               "ranking": [bench_ranking(n, args.seats, cfg) for n in sizes]}
    for r in results["ranking"]:
        print(f"ranking  {r['specialists']:>6} specialists, {r['candidates_mean']:>5} candidates"
              f"  choose {r['choose']}  cpu {r['choose_cpu']}  whole group {r['whole_group']}")
    if args.db:
        from oncoroute_shared.embedded.stack import Infrastructure

        with tempfile.TemporaryDirectory() as tmp:
            infra = Infrastructure(Path(tmp), kafka="unused:9092", pg_port=_free_port()).start()
            try:
                assert infra.database_url
                results["dispatch"] = [asyncio.run(bench_dispatch(
                    n, min(args.seats, 1000), cfg, infra.database_url)) for n in sizes]
            finally:
                infra.stop()
        for r in results["dispatch"]:
            print(f"dispatch {r['specialists']:>6} specialists  {r['dispatch']}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    main()
