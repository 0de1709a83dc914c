"""Intake's composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oncoroute_shared.policy import section
from oncoroute_shared.runtime import Runtime, ServiceParts, ServiceSpec

from .domain import codes
from .domain.policy import ClassificationPolicy, IntakePolicy, RecordsPolicy
from .entrypoints import fhir, http, kafka
from .handlers import Rules
from .settings import IntakeSettings


def validate_policy(doc: dict[str, Any]) -> IntakePolicy:
    return IntakePolicy(classification=section(doc, "classification", ClassificationPolicy),
                        records=section(doc, "records", RecordsPolicy))


def build(runtime: Runtime) -> ServiceParts:
    def start() -> None:
        runtime.state["rules"] = Rules(validate_policy(runtime.policy), codes.load())

    runtime.on_start(start)
    return ServiceParts(subscriptions=kafka.subscriptions(runtime),
                        routers=[http.router(runtime), fhir.router(runtime)])


SPEC = ServiceSpec(
    name="intake",
    title="Takes second-opinion requests, classifies the cancer and opens cases",
    default_port=8081,
    migrations=Path(__file__).parent / "migrations",
    build=build,
    settings_cls=IntakeSettings,
    validate_policy=validate_policy,
)
