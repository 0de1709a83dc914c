"""Schemathesis over every service's OpenAPI document, against the running services and their
real database: inputs that fit the schema and inputs that break it, for every operation, with
an operator's credentials: never a 5xx, never a response that breaks the operation's own
response schema. (Intake's no-5xx run with a wrong key too is tests/e2e/.)

Hypothesis drives schemathesis' strategies directly, one operation at a time, as in
tests/e2e/test_intake_schemathesis.py. `ONCOROUTE_SCHEMATHESIS_EXAMPLES` (default 25) per
operation and mode."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from oncoroute_shared.embedded.stack import SERVICES

from ..e2e.conftest import System

pytestmark = pytest.mark.e2e
EXAMPLES = int(os.environ.get("ONCOROUTE_SCHEMATHESIS_EXAMPLES", "25"))
HEALTH = ("/healthz", "/readyz", "/metrics")
# A server-sent event stream never ends; its one-shot twin /board/snapshot is covered.
STREAMS = ("/board/stream",)


def credentials(system: System, service: str) -> dict[str, str]:
    if service == "intake":
        return system.intake_headers
    if service == "matcher":
        issued = system.cli("specialists", "token", "--operator", "--label", "schemathesis")
        assert issued.returncode == 0, issued.stderr
        return {"Authorization": f"Bearer {issued.stdout.strip()}"}
    return system.operator_headers


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("service", SERVICES)
def test_no_server_error_and_every_response_fits_its_schema(
    security_system: System, service: str, mode: GenerationMode,
) -> None:
    schema = schemathesis.openapi.from_url(f"{security_system.url(service)}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if op.path not in STREAMS
                  and not (mode == GenerationMode.NEGATIVE and op.path in HEALTH)]
    headers = credentials(security_system, service)
    calls: list[tuple[str, int]] = []
    unbreakable: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            response = case.call(headers=headers, timeout=30)
            calls.append((f"{case.method} {case.operation.path}", response.status_code))
            case.validate_response(response, checks=[not_a_server_error,
                                                     response_schema_conformance],
                                   headers=headers)

        try:
            call()
        except Unsatisfiable:
            # NEGATIVE: nothing in this operation's inputs can be made invalid (no parameters
            # or body); its valid calls are the POSITIVE run's
            assert mode == GenerationMode.NEGATIVE, operation.path
            unbreakable.append(f"{operation.method.upper()} {operation.path}")
    statuses: dict[str, set[int]] = {}
    for op, status in calls:
        statuses.setdefault(op, set()).add(status)
    print(f"\nschemathesis {service} {mode.value}: {len(calls)} calls over {len(statuses)} "
          f"operations, statuses {sorted({s for _, s in calls})}; nothing to break in "
          f"{unbreakable or 'none'}")
    assert len(statuses) + len(unbreakable) == len(operations), "every operation was called"
    if mode == GenerationMode.POSITIVE:  # credentials worked: not everything refused
        assert any(200 <= s < 300 for _, s in calls)
