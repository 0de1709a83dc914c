from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oncoroute_matcher.domain.ranking import SeatNeed, choose
from oncoroute_matcher.domain.reasons import describe
from oncoroute_matcher.domain.roster import Specialist

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday
DEADLINE = NOW + timedelta(hours=48)


def _s(id: str, load: int = 0, cap: int = 5, **kw: object) -> Specialist:
    base: dict[str, object] = dict(id=id, name=id, tumor_groups=["breast"],
                                   roles=["medical_oncologist"], max_active=cap,
                                   active_count=load, regions=["GB"], languages=["en"])
    return Specialist(**{**base, **kw})


NEED = SeatNeed("c1", "disease_specialist", "any", "breast", "ext-1", "First Hospital",
                deadline=DEADLINE, review_time=timedelta(hours=4), patient_region="GB")


def _need(**kw: object) -> SeatNeed:
    return SeatNeed(**{**NEED.__dict__, **kw})


def _pick(roster: list[Specialist], need: SeatNeed = NEED, **kw: object) -> str | None:
    chosen = choose(roster, need, NOW, **kw).specialist  # type: ignore[arg-type]
    return chosen.id if chosen else None


def test_least_loaded_wins() -> None:
    assert _pick([_s("a", 3), _s("b", 1), _s("c", 2)]) == "b"


def test_load_ratio_not_count() -> None:
    assert _pick([_s("a", 2, 10), _s("b", 1, 2)]) == "a"


def test_fairness_breaks_ties_by_least_recently_assigned() -> None:
    old, new = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    assert _pick([_s("a", last_assigned_at=new), _s("b", last_assigned_at=old)]) == "b"


def test_exact_cancer_type_expertise_comes_first() -> None:
    need = _need(icd10="C50.9")
    roster = [_s("a"), _s("b", 4, cancer_types={"C50": "general"}),
              _s("c", 4, cancer_types={"C50.9": "expert"})]
    assert _pick(roster, need) == "c"
    assert _pick(roster[:2], need) == "b"


def test_finishing_before_the_deadline_beats_load_ratio() -> None:
    # a's queue of 9 reviews x 4h does not fit in 12h; b's (ratio higher) does
    need = _need(deadline=NOW + timedelta(hours=12))
    assert _pick([_s("a", 9, 20), _s("b", 1, 2)], need) == "b"
    assert choose([_s("a", 9, 20)], need, NOW).finishes_in_time is False


def test_rare_cancer_requires_an_expert_for_the_exact_type() -> None:
    need = _need(icd10="C92.4", require_expert=True, tumor_group="haematologic")
    roster = [_s("gen", tumor_groups=["haematologic"], cancer_types={"C92": "general"}),
              _s("other", tumor_groups=["haematologic"], cancer_types={"C92.0": "expert"}),
              _s("exp", 4, tumor_groups=["haematologic"], cancer_types={"C92.4": "expert"})]
    assert _pick(roster, need) == "exp"
    assert choose(roster[:2], need, NOW).reasons == {"not_expert_for_cancer_type": 2}


def test_roles_are_alternatives() -> None:
    need = _need(roles=frozenset({"pathologist", "haematopathologist"}))
    assert _pick([_s("a"), _s("b", 3, roles=["haematopathologist"])], need) == "b"


def test_region_language_and_independence_are_hard_rules() -> None:
    need = _need(report_language="hi")
    roster = [_s("us", regions=["US"], languages=["hi"]), _s("en"),
              _s("same", institution="FIRST HOSPITAL", languages=["hi"]),
              _s("ok", 4, languages=["en", "hi"])]
    choice = choose(roster, need, NOW)
    assert choice.specialist and choice.specialist.id == "ok"
    assert choice.reasons == {"not_licensed_in_region": 1, "no_report_language": 1,
                              "conflict_of_interest": 1}
    assert _pick(roster[:1], _need(patient_region=None, report_language="hi")) == "us"


def test_on_call_reserve_serves_only_fast_progressing_cases() -> None:
    roster = [_s("reserve", on_call=True)]
    assert _pick(roster) is None
    assert _pick(roster, _need(fast_progressing=True)) == "reserve"


def test_time_off_through_the_deadline_excludes() -> None:
    leave = {"a": [(NOW + timedelta(hours=30), NOW + timedelta(hours=60))]}
    assert _pick([_s("a"), _s("b", 4)], leave=leave) == "b"
    after = {"a": [(DEADLINE + timedelta(hours=1), DEADLINE + timedelta(hours=9))]}
    assert _pick([_s("a"), _s("b", 4)], leave=after) == "a"


def test_working_hours_unless_on_call() -> None:
    night = datetime(2026, 3, 4, 22, 0, tzinfo=UTC)
    day_worker = _s("day", working_hours="mon-fri 08:00-18:00", timezone="Europe/London")
    on_call = _s("oncall", 3, working_hours="mon-fri 08:00-18:00", on_call=True)
    need = _need(fast_progressing=True, deadline=night + timedelta(hours=24))
    choice = choose([day_worker, on_call], need, night)
    assert choice.specialist and choice.specialist.id == "oncall"
    assert choice.reasons == {"outside_working_hours": 1}
    assert choose([day_worker], need, NOW).specialist is not None  # 10:00 London


def test_nobody_eligible_gives_reasons_in_counts() -> None:
    roster = [_s("a", 5), _s("b", 5), _s("ext-1"), _s("d", institution="first hospital"),
              Specialist(id="e", name="e", roles=["x"], tumor_groups=["thoracic"],
                         max_active=5)]
    choice = choose(roster, NEED, NOW)
    assert choice.specialist is None
    assert choice.reasons == {"at_capacity": 2, "conflict_of_interest": 2, "other_tumor_group": 1}
    assert describe(choice.reasons) == ("2 at capacity, 2 conflict of interest, "
                                        "1 of another tumour group")


def test_excluded_reviewers_are_never_chosen() -> None:
    assert _pick([_s("a"), _s("b", 4)], _need(excluded=frozenset({"a"}))) == "b"


def test_ranked_lists_every_eligible_reviewer_best_first() -> None:
    choice = choose([_s("a", 3), _s("b", 1), _s("c", 5)], NEED, NOW, ranked=True)
    assert [s.id for s in choice.ranked] == ["b", "a"]
