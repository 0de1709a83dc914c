"""Matcher's composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oncoroute_shared.policy import section
from oncoroute_shared.runtime import Runtime, ServiceParts, ServiceSpec

from .domain.panel import MatchingPolicy
from .entrypoints import http, kafka


def validate_policy(doc: dict[str, Any]) -> MatchingPolicy:
    return section(doc, "matching", MatchingPolicy)


def build(runtime: Runtime) -> ServiceParts:
    runtime.on_start(lambda: runtime.state.update(policy=validate_policy(runtime.policy)))
    return ServiceParts(subscriptions=kafka.subscriptions(runtime), routers=[http.router(runtime)])


SPEC = ServiceSpec(
    name="matcher",
    title="Assigns reviewers by expertise, workload, availability and independence",
    default_port=8082,
    migrations=Path(__file__).parent / "migrations",
    build=build,
    validate_policy=validate_policy,
)
