"""Schemathesis over intake's OpenAPI document, against the running service and its real
database: inputs that fit the schema and inputs that break it, for every operation, with an
operator key and with a wrong one, never answer a 5xx.

Hypothesis drives schemathesis' strategies directly (the pytest plugin's lazy loading does not
support this pytest), one operation at a time."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation.modes import GenerationMode

from .conftest import System

pytestmark = pytest.mark.e2e
EXAMPLES = 40
HEALTH = ("/healthz", "/readyz", "/metrics")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_input_gets_a_server_error(system: System, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{system.url('intake')}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {
        "POST /v1/cases", "GET /v1/cases", "GET /v1/cases/{case_id}",
        "POST /v1/cases/{case_id}/records", "POST /v1/cases/{case_id}/withdraw",
        "POST /fhir/r4/Bundle"}
    if mode == GenerationMode.NEGATIVE:  # the health routes take no input to break
        operations = [op for op in operations if op.path not in HEALTH]
    calls: list[tuple[str, int]] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            response = case.call(headers=system.intake_headers, timeout=30)
            calls.append((case.path, response.status_code))
            assert response.status_code < 500, (case.method, case.path, response.text[:500])
            stranger = case.call(headers={"Authorization": "Bearer ork_x_y"}, timeout=30)
            assert stranger.status_code < 500
            if case.path not in HEALTH:
                # refused as unauthorised, or (a NUL in the path or query) refused as invalid
                # before anything else, with or without credentials
                assert stranger.status_code == 401 or (
                    stranger.status_code == response.status_code == 422), stranger.text[:300]

        call()
    assert len(calls) > 100
    if mode == GenerationMode.POSITIVE:  # valid inputs reached past validation, not only 422s
        assert any(status in (200, 201) for path, status in calls if path == "/v1/cases")
