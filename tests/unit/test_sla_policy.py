"""The sla policy section: defaults as documented, validated at start with the key named."""

from __future__ import annotations

from typing import Any

import pytest

from oncoroute_shared.policy import load_document
from oncoroute_shared.settings import SettingsError
from oncoroute_sla.bootstrap import validate_policy
from oncoroute_sla.domain.policy import SlaPolicy

pytestmark = pytest.mark.unit
TIERS = {"standard": {"turnaround": "48h", "acceptance_timeout": "4h"}}


def problem(sla: dict[str, Any]) -> str:
    with pytest.raises(SettingsError) as info:
        validate_policy({"sla": sla})
    return str(info.value)


def test_the_shipped_policy_file_spells_out_exactly_the_built_in_defaults() -> None:
    assert validate_policy(load_document(None)) == SlaPolicy()


def test_defaults_are_the_issue_defaults() -> None:
    p = SlaPolicy()
    assert [w.at for w in p.warnings] == [0.5, 0.75]
    assert [(lvl.at, lvl.audience) for lvl in p.escalation.levels] == [
        (0.75, ["reviewers", "tumor_group_lead"]), (0.9, ["operators_on_call"])]
    fast = p.tier("fast_progressing")
    assert fast.clock_starts == "opened" and fast.expedite
    assert p.tier("standard").clock_starts == "ready" and not p.tier("standard").expedite
    assert p.pause_while_awaiting_records and p.at_risk_at == 0.75


def test_extra_tiers_may_be_added() -> None:
    p = validate_policy({"sla": {"tiers": {**TIERS, "urgent_review": {
        "turnaround": "12h", "acceptance_timeout": "30m", "clock_starts": "opened"}}}})
    assert p.tier("urgent_review").turnaround.total_seconds() == 12 * 3600


@pytest.mark.parametrize(("sla", "where"), [
    ({"tiers": {"fast": TIERS["standard"]}}, "sla.tiers"),
    ({"tiers": TIERS, "warnings": [{"at": 1.5, "audience": ["reviewers"]}]}, "sla.warnings.0.at"),
    ({"tiers": TIERS, "warnings": [{"at": 0.5, "audience": ["reviewrs"]}]},
     "sla.warnings.0.audience.0"),
    ({"tiers": TIERS, "escalation": {"levels": [{"at": 0.9, "audience": ["reviewers"]},
                                                {"at": 0.5, "audience": ["reviewers"]}]}},
     "sla.escalation.levels"),
    ({"tiers": TIERS, "escalation": {"repeat_every": "-4h"}}, "sla.escalation.repeat_every"),
    ({"tiers": {"standard": {"turnaround": "0s", "acceptance_timeout": "4h"}}},
     "sla.tiers.standard.turnaround"),
    ({"tiers": TIERS, "breach": {"audience": []}}, "sla.breach.audience"),
    ({"tiers": TIERS, "warnigns": []}, "sla.warnigns"),
    ({"tiers": {"standard": {**TIERS["standard"], "clock_starts": "later"}}},
     "sla.tiers.standard.clock_starts"),
])
def test_bad_sections_stop_the_service_naming_the_key(sla: dict[str, Any], where: str) -> None:
    assert where in problem(sla)


def test_repeat_and_reminders_can_be_switched_off() -> None:
    p = validate_policy({"sla": {"tiers": TIERS, "escalation": {"repeat_every": None},
                                 "records_reminders": {"every": None}}})
    assert p.escalation.repeat_every is None and p.records_reminders.every is None
