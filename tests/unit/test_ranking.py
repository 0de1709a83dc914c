from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oncoroute_matcher.domain.ranking import SeatNeed, choose
from oncoroute_matcher.domain.roster import Specialist
from oncoroute_matcher.domain.roster_file import RosterError, parse_csv

pytestmark = pytest.mark.unit


def _s(id: str, load: int = 0, cap: int = 5, **kw: object) -> Specialist:
    return Specialist(id=id, name=id, tumor_groups=["breast"], roles=["medical_oncologist"],
                      max_active=cap, active_count=load, **kw)


NEED = SeatNeed("c1", "disease_specialist", "any", "breast", "ext-1", "First Hospital")


def test_least_loaded_wins() -> None:
    assert choose([_s("a", 3), _s("b", 1), _s("c", 2)], NEED).specialist.id == "b"  # type: ignore[union-attr]


def test_load_ratio_not_count() -> None:
    assert choose([_s("a", 2, 10), _s("b", 1, 2)], NEED).specialist.id == "a"  # type: ignore[union-attr]


def test_fairness_breaks_ties_by_least_recently_assigned() -> None:
    old, new = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    chosen = choose([_s("a", last_assigned_at=new), _s("b", last_assigned_at=old)], NEED)
    assert chosen.specialist.id == "b"  # type: ignore[union-attr]


def test_nobody_eligible_gives_reasons_in_counts() -> None:
    roster = [_s("a", 5), _s("b", 5), _s("ext-1"), _s("d", institution="first hospital"),
              Specialist(id="e", name="e", tumor_groups=["thoracic"], max_active=5)]
    choice = choose(roster, NEED)
    assert choice.specialist is None
    assert choice.reasons == {"at_capacity": 2, "conflict_of_interest": 2, "other_tumor_group": 1}


def test_excluded_reviewers_are_never_chosen() -> None:
    need = SeatNeed(**{**NEED.__dict__, "excluded": frozenset({"a"})})
    assert choose([_s("a"), _s("b", 4)], need).specialist.id == "b"  # type: ignore[union-attr]


def test_roster_csv_reports_every_bad_row() -> None:
    text = ("id,name,email,roles,tumor_groups,max_active,languages,regions,institution,timezone\n"
            "a,A,a@example.org,haematologist,haematologic,5,en,GB,X,UTC\n"
            "b,B,not-an-email,haematologist,haematologic,5,en,GB,X,UTC\n"
            "c,C,,haematologist,haematologic,-1,en,GB,X,UTC\n")
    with pytest.raises(RosterError) as info:
        parse_csv(text)
    assert "line 3: email" in str(info.value) and "line 4: max_active" in str(info.value)


def test_roster_csv_splits_lists() -> None:
    [s] = parse_csv("id,name,email,roles,tumor_groups,max_active,languages,regions,"
                    "institution,timezone\na,A,,haematologist;pathologist,haematologic,5,"
                    "en;hi,GB,X,UTC\n")
    assert s.roles == ["haematologist", "pathologist"] and s.languages == ["en", "hi"]
