"""Intake's settings and the operator keys provisioned through them."""

from __future__ import annotations

import pytest
from fastapi.security import HTTPAuthorizationCredentials

from oncoroute_intake.bootstrap import SPEC
from oncoroute_intake.domain.access import key_hash
from oncoroute_intake.entrypoints.auth import authenticator
from oncoroute_intake.entrypoints.problems import ProblemError
from oncoroute_intake.settings import IntakeSettings
from oncoroute_shared.runtime import Runtime
from oncoroute_shared.settings import SettingsError, load

pytestmark = pytest.mark.unit


def test_defaults_and_the_spec_uses_them(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INTAKE_MAX_BODY_BYTES", "INTAKE_KEY_CACHE_SECONDS",
                 "INTAKE_OPERATOR_KEY_HASHES"):
        monkeypatch.delenv(name, raising=False)
    settings = load(IntakeSettings)
    assert settings.intake_max_body_bytes == 1024 * 1024
    assert settings.intake_key_cache_seconds == 5
    assert settings.operator_hashes() == frozenset()
    assert SPEC.settings_cls is IntakeSettings


def test_a_bad_value_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_MAX_BODY_BYTES", "lots")
    with pytest.raises(SettingsError, match="INTAKE_MAX_BODY_BYTES"):
        load(IntakeSettings)


async def test_an_operator_key_from_the_environment_needs_no_database() -> None:
    runtime = Runtime("intake", settings=IntakeSettings(
        intake_operator_key_hashes=f" {key_hash('ork_ops_s3cret').upper()} , other"))
    authenticate = authenticator(runtime)
    who = await authenticate(HTTPAuthorizationCredentials(scheme="Bearer",
                                                          credentials="ork_ops_s3cret"))
    assert who.operator and who.source is None
    with pytest.raises(ProblemError) as refused:
        await authenticate(None)
    assert refused.value.status == 401
    with pytest.raises(ProblemError):
        await authenticate(HTTPAuthorizationCredentials(scheme="Bearer", credentials="\x00"))
