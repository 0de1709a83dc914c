"""Chaos under load (short form for CI): cases over HTTP and Kafka while every service is
SIGKILLed and restarted at least once and PostgreSQL is restarted once; then every invariant
over the whole history. The long form is `bench/chaos.py --cases 5000` (docs/RELIABILITY.md);
`ONCOROUTE_CHAOS_CASES`, `_RATE`, `_KILL_EVERY` and `_ROUNDS` stretch this one."""

from __future__ import annotations

from pathlib import Path

import pytest

from oncoroute_shared.embedded.stack import SERVICES

from .harness import Settings, chaos_rig, run

pytestmark = pytest.mark.e2e


async def test_chaos_under_load_keeps_every_invariant(
    tmp_path_factory: pytest.TempPathFactory, artifacts: Path,
) -> None:
    settings = Settings.from_env(cases=240, turnaround_s=20)
    with chaos_rig(tmp_path_factory.mktemp("chaos"), artifacts / "logs-chaos", settings) as rig:
        outcome = await run(rig)
    print("\n" + outcome.report())
    (artifacts / "chaos.json").write_text(outcome.as_json())
    assert set(outcome.faults.kills) == set(SERVICES), "every service must be killed"
    assert outcome.faults.postgres_restarts == 1
    broken = {c.name: c.violations[:5] for c in outcome.checks if c.violations}
    assert broken == {}
    assert all(c.checked for c in outcome.checks), "an invariant checked nothing"
