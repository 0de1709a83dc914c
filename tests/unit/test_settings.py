from __future__ import annotations

import pytest

from oncoroute_shared.policy import load_document
from oncoroute_shared.settings import ServiceSettings, SettingsError, load

pytestmark = pytest.mark.unit


def test_bad_settings_stop_naming_each_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "localhost")
    monkeypatch.setenv("DATABASE_URL", "mysql://x")
    monkeypatch.setenv("ONCOROUTE_TIME_SCALE", "0")
    with pytest.raises(SettingsError) as info:
        load(ServiceSettings)
    text = str(info.value)
    assert "KAFKA_BOOTSTRAP_SERVERS" in text and "host:port" in text
    assert "DATABASE_URL" in text and "ONCOROUTE_TIME_SCALE" in text


def test_unset_addresses_mean_the_embedded_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load(ServiceSettings)
    assert settings.kafka_bootstrap_servers is None and settings.database_url is None


def test_unreadable_policy_file_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError, match="ONCOROUTE_POLICY"):
        load_document(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sla: [unclosed")
    with pytest.raises(SettingsError, match="not valid YAML"):
        load_document(bad)
