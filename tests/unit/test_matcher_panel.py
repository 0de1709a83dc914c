"""The panel a case needs, from the default policy's `matching` section."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oncoroute_matcher.bootstrap import validate_policy
from oncoroute_matcher.domain.lifecycle import Action, LifecycleError, next_status
from oncoroute_matcher.domain.panel import Deadlines, MatchingConfig, seats_for
from oncoroute_shared.policy import load_document
from oncoroute_shared.settings import SettingsError

pytestmark = pytest.mark.unit
POLICY = validate_policy(load_document(None))


def _panel(group: str, reasons: list[str], records: list[str] = ()) -> dict[str, list[str]]:
    return {p.seat: sorted(p.roles) for p in seats_for(POLICY, group, reasons, records)}


def test_every_case_has_a_disease_specialist_of_its_group() -> None:
    assert _panel("breast", []) == {"disease_specialist": ["medical_oncologist",
                                                           "paediatric_oncologist"]}
    assert _panel("haematologic", [])["disease_specialist"] == ["haematologist",
                                                                "paediatric_oncologist"]


def test_reasons_add_seats() -> None:
    assert _panel("breast", ["confirm_diagnosis"])["pathologist"] == ["pathologist"]
    assert _panel("haematologic", ["confirm_diagnosis"])["pathologist"] == ["haematopathologist"]
    assert "radiologist" not in _panel("thoracic", ["unclear_test_results"], ["lab_results"])
    assert _panel("thoracic", ["unclear_test_results"], ["imaging"])["radiologist"] == [
        "radiologist"]
    assert "surgical_oncologist" in _panel("breast", ["surgery_recommended"])


def test_rare_cancer_requires_an_expert_disease_specialist() -> None:
    [seat] = seats_for(POLICY, "haematologic", ["rare_cancer"], [])
    assert seat.seat == "disease_specialist" and seat.require_expert


def test_the_skeleton_shape_still_parses() -> None:
    policy = validate_policy({"matching": {"seats": [{"seat": "disease_specialist",
                                                      "role": "any"}]}})
    [seat] = seats_for(policy, "breast", ["confirm_diagnosis"], [])
    assert seat.roles == frozenset() and seat.role_label == "any"


def test_bad_policy_stops_with_the_key() -> None:
    with pytest.raises(SettingsError, match="matching.seats"):
        validate_policy({"matching": {"seats": [{"seat": "a", "role": "x"},
                                                {"seat": "a", "role": "y"}]}})
    with pytest.raises(SettingsError, match="matching.review_time"):
        validate_policy({"matching": {"review_time": {"standard": "soon"}}})


def test_deadline_and_review_time_follow_the_sla_tiers_and_time_scale() -> None:
    cfg = MatchingConfig(POLICY, Deadlines.from_policy(load_document(None)), time_scale=60)
    opened = datetime(2026, 1, 1, tzinfo=UTC)
    assert cfg.deadline("fast_progressing", opened) == opened + timedelta(minutes=24)
    assert cfg.deadline("standard", opened) == opened + timedelta(minutes=48)
    assert cfg.review_time("fast_progressing") == timedelta(minutes=2)
    assert cfg.review_time("standard") == timedelta(minutes=4)


def test_lifecycle_allows_only_the_documented_moves() -> None:
    assert next_status("offered", Action.ACCEPT).value == "accepted"
    assert next_status("accepted", Action.OPINION).value == "completed"
    for status, action in [("accepted", Action.DECLINE), ("declined", Action.ACCEPT),
                           ("completed", Action.RELEASE), ("accepted", Action.EXPIRE)]:
        with pytest.raises(LifecycleError, match=f"cannot {action.value}"):
            next_status(status, action)
