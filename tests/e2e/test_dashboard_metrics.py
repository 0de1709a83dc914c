"""Every metric a Grafana dashboard or an alert rule queries is exported by some service."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
import yaml

from .conftest import System

pytestmark = pytest.mark.e2e
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NAME = re.compile(r"\b((?:oncoroute|faststream)_[a-zA-Z0-9_]+)")
SUFFIXES = ("_bucket", "_sum", "_count", "_created")


def _queried() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for board in sorted((DEPLOY / "grafana" / "dashboards").glob("*.json")):
        for panel in json.loads(board.read_text())["panels"]:
            for target in panel.get("targets", []):
                for name in NAME.findall(target["expr"]):
                    found.setdefault(name, set()).add(board.name)
    for rules in sorted((DEPLOY / "prometheus" / "rules").glob("*.yml")):
        for group in yaml.safe_load(rules.read_text())["groups"]:
            for rule in group["rules"]:
                for name in NAME.findall(rule["expr"]):
                    found.setdefault(name, set()).add(rules.name)
    return found


def _family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


async def test_every_queried_metric_is_exported(system: System) -> None:
    exported: set[str] = set()
    async with httpx.AsyncClient(timeout=10) as client:
        for name in system.services:
            text = (await client.get(f"{system.url(name)}/metrics")).text
            exported |= {line.split()[2] for line in text.splitlines()
                         if line.startswith("# TYPE ")}
    queried = _queried()
    assert len(queried) >= 15
    missing = {name: sorted(where) for name, where in queried.items()
               if name not in exported and _family(name) not in exported
               and _family(name).removesuffix("_total") not in exported}
    assert not missing, f"queried but exported by no service: {missing}"


def _sample(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_business_metrics_move_with_a_case(system: System) -> None:
    from ..support.submissions import submission
    from ..support.waiting import eventually

    async with system.intake_client() as client:
        r = await client.post("/v1/cases", json=submission(source="test-hospital"))
        assert r.status_code == 201, r.text
        bad = await client.post("/v1/cases", json={"source": "test-hospital"})
        assert bad.status_code == 422

    async def scraped(service: str, name: str, **labels: str) -> float | None:
        async with httpx.AsyncClient(timeout=10) as c:
            text = (await c.get(f"{system.url(service)}/metrics")).text
        value = _sample(text, name, **labels)
        return value if value else None

    assert await eventually(lambda: scraped("intake", "oncoroute_cases_opened_total",
                                            tier="standard", tumor_group="breast"),
                            timeout=30, what="cases opened counted")
    assert await scraped("intake", "oncoroute_cases_rejected_total", channel="http")
    first_offer = "oncoroute_time_to_first_offer_seconds_count"
    assert await eventually(lambda: scraped("matcher", first_offer, tier="standard"),
                            timeout=60, what="time to first offer observed")
    assert await eventually(lambda: scraped("matcher", "oncoroute_reviewer_utilisation_ratio",
                                            tumor_group="breast"),
                            timeout=60, what="reviewer utilisation published")
    assert await eventually(lambda: scraped("notify", "oncoroute_notifications_total"),
                            timeout=60, what="notifications counted")
