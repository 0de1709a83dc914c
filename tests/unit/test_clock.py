from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oncoroute_shared.policy import load_document, parse_duration
from oncoroute_shared.settings import SettingsError
from oncoroute_sla.bootstrap import validate_policy
from oncoroute_sla.domain.clock import start

pytestmark = pytest.mark.unit
POLICY = validate_policy(load_document(None))
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def test_standard_is_48h_and_fast_progressing_24h() -> None:
    assert start(POLICY, "standard", NOW).deadline == NOW + timedelta(hours=48)
    assert start(POLICY, "fast_progressing", NOW).deadline == NOW + timedelta(hours=24)


def test_unknown_tier_falls_back_to_standard() -> None:
    assert start(POLICY, "mystery", NOW).turnaround == timedelta(hours=48)


def test_time_scale_divides_durations() -> None:
    assert start(POLICY, "standard", NOW, time_scale=3600).turnaround == timedelta(seconds=48)


@pytest.mark.parametrize(("text", "seconds"), [("48h", 172800), ("90m", 5400), ("20s", 20),
                                               ("1.5h", 5400), (30, 30)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


def test_bad_policy_names_the_key() -> None:
    with pytest.raises(SettingsError) as info:
        validate_policy({"sla": {"tiers": {"standard": {"turnaround": "soon",
                                                        "acceptance_timeout": "4h"}}}})
    assert "sla.tiers.standard.turnaround" in str(info.value)
