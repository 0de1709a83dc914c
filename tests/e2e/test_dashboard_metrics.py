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
