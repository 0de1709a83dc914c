"""Scale-out: two processes of every service against one broker and one database, under load
(HTTP and Kafka, withdrawals, opinions): every invariant of the chaos test holds, and both
processes of each service did part of the work (Kafka splits each topic's partitions between
a consumer group's members; PostgreSQL row locks and advisory locks keep the rest single).
`ONCOROUTE_CHAOS_CASES` / `_RATE` / `_PROCESSES` stretch it; the numbers are in
docs/RELIABILITY.md and docs/SCALING.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oncoroute_shared.embedded.stack import SERVICES

from ..chaos.harness import Settings, chaos_rig, run

pytestmark = pytest.mark.e2e


def handled(log: Path) -> int:
    """Events this process's consumers handled (one JSON line each, see the consumer)."""
    count = 0
    for line in log.read_text(errors="replace").splitlines():
        entry = json.loads(line)
        if entry.get("logger") == "oncoroute.consumer" and entry.get("event_id"):
            count += 1
    return count


async def test_two_processes_of_every_service_keep_every_invariant(
    tmp_path_factory: pytest.TempPathFactory, artifacts: Path,
) -> None:
    settings = Settings.from_env(cases=150, rate=15.0, processes=2, chaos=False,
                                 turnaround_s=20)
    logs = artifacts / "logs-scale"
    with chaos_rig(tmp_path_factory.mktemp("scale"), logs, settings) as rig:
        outcome = await run(rig)
        work = {f"{name} #{n + 1}": handled(proc.log_path) for name in SERVICES
                for n, proc in enumerate(p for m, p in rig.processes() if m == name)}
    print("\n" + outcome.report() + f"\nevents handled per process: {work}")
    assert len(work) == 2 * len(SERVICES)
    idle = [p for p, n in work.items() if n == 0]
    assert idle == [], f"processes that took no share of the work: {idle}"
    broken = {c.name: c.violations[:5] for c in outcome.checks if c.violations}
    assert broken == {}
