"""The notify policy section and settings: the defaults are valid, bad values stop the
service naming the key."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest

from oncoroute_notify.bootstrap import validate_policy
from oncoroute_notify.settings import NotifySettings
from oncoroute_shared.policy import load_document
from oncoroute_shared.settings import SettingsError, load

pytestmark = pytest.mark.unit
SECRET = "whsec_" + base64.b64encode(b"s" * 24).decode()


def test_the_default_policy_has_a_valid_notify_section() -> None:
    policy = validate_policy(load_document(None))
    assert policy.operators_on_call and policy.leads("breast")
    assert policy.quiet_hours is not None
    scaled = policy.scaled(60)
    assert scaled.retry.first_delay == policy.retry.first_delay / 60
    assert scaled.quiet_hours == policy.quiet_hours  # wall-clock, never scaled


@pytest.mark.parametrize(("section", "message"), [
    ({"quiet_hours": {"start": "25:00", "end": "08:00"}}, "notify.quiet_hours.start"),
    ({"default_timezone": "Mars/Olympus"}, "notify.default_timezone"),
    ({"staff_channels": {"high": ["email"]}}, "notify.staff_channels"),
    ({"staff_channels": {"high": ["pager"], "low": ["email"]}}, "notify.staff_channels"),
    ({"retry": {"first_delay": "10m", "max_delay": "1m"}}, "notify.retry"),
    ({"operators_on_call": [{"name": "x", "email": "not-an-address"}]},
     "notify.operators_on_call.0.email"),
    ({"unknown_key": 1}, "notify.unknown_key"),
])
def test_a_bad_section_names_the_key(section: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace(".", r"\.")):
        validate_policy({"notify": section})


def test_retry_and_link_durations_parse() -> None:
    policy = validate_policy({"notify": {"retry": {"first_delay": "2s", "max_delay": "1m"},
                                         "link_ttl": "1h"}})
    assert policy.retry.first_delay == timedelta(seconds=2)
    assert policy.link_ttl == timedelta(hours=1)


def test_webhook_secrets_from_env_and_file(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    file = tmp_path / "secrets.json"
    file.write_text(json.dumps({"b": SECRET, "a": "whsec_overridden-by-env"}))
    monkeypatch.setenv("WEBHOOK_SECRETS", json.dumps({"a": SECRET}))
    monkeypatch.setenv("WEBHOOK_SECRETS_FILE", str(file))
    assert load(NotifySettings).webhook_secrets == {"a": SECRET, "b": SECRET}


@pytest.mark.parametrize("secret", ["plain-text", "whsec_!!!", "whsec_" + base64.b64encode(
    b"short").decode()])
def test_a_bad_webhook_secret_stops_the_service(monkeypatch: pytest.MonkeyPatch,
                                                secret: str) -> None:
    monkeypatch.setenv("WEBHOOK_SECRETS", json.dumps({"his": secret}))
    with pytest.raises(SettingsError, match="webhook secret for 'his'") as err:
        load(NotifySettings)
    assert secret not in str(err.value)  # never echo a secret


def test_short_link_secret_and_bad_sms_url_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINK_SIGNING_SECRET", "short")
    monkeypatch.setenv("SMS_GATEWAY_URL", "ftp://sms")
    with pytest.raises(SettingsError) as err:
        load(NotifySettings)
    assert "LINK_SIGNING_SECRET" in str(err.value) and "SMS_GATEWAY_URL" in str(err.value)
