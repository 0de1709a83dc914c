"""Alert rules are valid and behave as their unit tests say (promtool, from Debian's
`prometheus` package, which .ci/run installs when missing)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
PROM = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    assert tool, "promtool is required (apt-get install prometheus); .ci/run installs it"
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=60, cwd=PROM)


def test_rules_are_valid() -> None:
    for rules in sorted((PROM / "rules").glob("*.yml")):
        done = _promtool("check", "rules", str(rules))
        assert done.returncode == 0, done.stdout + done.stderr


def test_rule_unit_tests_pass() -> None:
    tests = sorted((PROM / "tests").glob("*.yml"))
    assert tests
    done = _promtool("test", "rules", *map(str, tests))
    assert done.returncode == 0, done.stdout + done.stderr


def test_scrape_config_is_valid_and_loads_the_rules() -> None:
    config = PROM / "prometheus.yml"
    done = _promtool("check", "config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rules/oncoroute.rules.yml" in config.read_text()
    for service in ("intake", "matcher", "sla", "notify"):
        assert f"oncoroute-{service}" in config.read_text()
