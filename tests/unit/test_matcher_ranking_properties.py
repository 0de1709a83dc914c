"""Property-based tests of the pure ranking: for any roster and any seat, no hard rule is
ever broken, nobody eligible is left out, and the choice does not depend on roster order.

The hard rules are re-stated here independently (working time is counted by brute force in
15-minute steps), so the test does not trust `ineligibility` or the interval arithmetic.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncoroute_matcher.domain.ranking import SeatNeed, choose
from oncoroute_matcher.domain.roster import Specialist

pytestmark = pytest.mark.unit

STEP = timedelta(minutes=15)
GROUPS = ["breast", "haematologic", "thoracic"]
ROLES = ["medical_oncologist", "haematologist", "pathologist", "radiologist"]
ZONES = ["UTC", "Europe/London", "Asia/Kolkata", "America/New_York"]
HOURS = [None, "mon-fri 08:00-18:00", "mon-sun 00:00-24:00", "sat-sun 10:00-14:00",
         "mon-thu 09:00-17:30|fri 09:00-12:00", "tue 22:00-24:00"]
INSTITUTIONS = [None, "General Hospital", "general hospital", "Other Clinic"]
CODES = ["C50", "C50.9", "C92", "C92.4", "C34.1"]
# June: no daylight-saving change in these zones, so 15-minute counting is exact
BASE = datetime(2026, 6, 1, tzinfo=UTC)


@st.composite
def specialists(draw: st.DrawFn, i: int) -> Specialist:
    cap = draw(st.integers(0, 4))
    return Specialist(
        id=f"s{i:02d}", name=f"S{i}",
        roles=draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=2, unique=True)),
        tumor_groups=draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=2,
                                   unique=True)),
        cancer_types=draw(st.dictionaries(st.sampled_from(CODES),
                                          st.sampled_from(["general", "expert"]), max_size=2)),
        max_active=cap, active_count=draw(st.integers(0, cap)),
        languages=draw(st.lists(st.sampled_from(["en", "hi", "de"]), max_size=2, unique=True)),
        regions=draw(st.lists(st.sampled_from(["GB", "IN", "US"]), max_size=2, unique=True)),
        institution=draw(st.sampled_from(INSTITUTIONS)), timezone=draw(st.sampled_from(ZONES)),
        working_hours=draw(st.sampled_from(HOURS)), on_call=draw(st.booleans()),
        active=draw(st.integers(0, 9)) > 0,
        last_assigned_at=draw(st.none() | st.integers(0, 1000).map(
            lambda m: BASE - timedelta(minutes=m))),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Specialist], SeatNeed, datetime, dict]:  # type: ignore[type-arg]
    roster = [draw(specialists(i)) for i in range(draw(st.integers(0, 14)))]
    now = BASE + STEP * draw(st.integers(0, 4 * 24 * 20))
    ids = [s.id for s in roster]
    need = SeatNeed(
        case_id="c", seat="seat", role="any",
        tumor_group=draw(st.sampled_from([*GROUPS, None])),
        first_opinion_physician=draw(st.none() | st.sampled_from(ids or ["x"])),
        first_opinion_institution=draw(st.sampled_from(INSTITUTIONS)),
        excluded=frozenset(draw(st.lists(st.sampled_from(ids or ["x"]), max_size=3))),
        roles=frozenset(draw(st.lists(st.sampled_from(ROLES), max_size=2))),
        icd10=draw(st.none() | st.sampled_from(["C50.9", "C92.4", "C92.0", "C34.1"])),
        require_expert=draw(st.booleans()), fast_progressing=draw(st.booleans()),
        patient_region=draw(st.none() | st.sampled_from(["GB", "IN", "US"])),
        report_language=draw(st.none() | st.sampled_from(["en", "hi"])),
        deadline=now + STEP * draw(st.integers(1, 4 * 72)),
        review_time=STEP * draw(st.integers(1, 16)),
    )
    leave: dict[str, list[tuple[datetime, datetime]]] = {}
    for sid in draw(st.lists(st.sampled_from(ids or ["x"]), max_size=3)):
        start = now + STEP * draw(st.integers(-200, 400))
        leave.setdefault(sid, []).append((start, start + STEP * draw(st.integers(1, 300))))
    return roster, need, now, leave


def _working(s: Specialist, at: datetime) -> bool:
    if s.on_call or not s.working_hours:
        return True
    local = at.astimezone(ZoneInfo(s.timezone))
    day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][local.weekday()]
    for part in s.working_hours.split("|"):
        days, span = part.split()
        first, _, last = days.partition("-")
        names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        lo, hi = names.index(first), names.index(last or first)
        start, end = span.split("-")
        end_t = time(23, 59, 59) if end == "24:00" else time.fromisoformat(end)
        if lo <= names.index(day) <= hi and time.fromisoformat(start) <= local.time() < end_t:
            return True
    return False


def _working_time(s: Specialist, start: datetime, end: datetime) -> timedelta:
    total, t = timedelta(0), start
    while t < end:
        total += STEP if _working(s, t) else timedelta(0)
        t += STEP
    return total


def allowed(s: Specialist, need: SeatNeed, now: datetime, leave: dict) -> bool:  # type: ignore[type-arg]
    """Every hard rule, stated again without the code under test."""
    code = (need.icd10 or "").replace(".", "")
    expert = any(code.startswith(c.replace(".", "")) and lvl == "expert"
                 for c, lvl in s.cancer_types.items()) if code else False
    assert need.deadline is not None
    return (s.active and need.tumor_group in s.tumor_groups
            and (not need.roles or bool(need.roles & set(s.roles)))
            and s.id not in need.excluded and s.id != need.first_opinion_physician
            and not (need.first_opinion_institution and s.institution
                     and s.institution.lower() == need.first_opinion_institution.lower())
            and (need.patient_region is None or need.patient_region in s.regions)
            and (need.report_language is None or need.report_language in s.languages)
            and (not need.require_expert or expert)
            and (need.fast_progressing or not s.on_call)
            and s.active_count < s.max_active
            and not any(a < need.deadline and now < b for a, b in leave.get(s.id, []))
            and _working(s, now))


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_no_hard_rule_is_ever_broken(scenario: tuple, rnd: random.Random) -> None:  # type: ignore[type-arg]
    roster, need, now, leave = scenario
    choice = choose(roster, need, now, leave, ranked=True)
    eligible = {s.id for s in roster if allowed(s, need, now, leave)}
    assert {s.id for s in choice.ranked} == eligible  # none wrongly chosen, none left out
    assert sum(choice.reasons.values()) == len(roster) - len(eligible)
    if choice.specialist is None:
        assert not eligible
    else:
        assert choice.specialist.id in eligible and choice.specialist is choice.ranked[0]
        # projected finish is ranked second: nobody of the same expertise who can finish in
        # time is passed over for one who cannot
        assert need.deadline is not None
        level = choice.specialist.expertise(need.icd10)
        work = need.review_time * (choice.specialist.active_count + 1)
        if _working_time(choice.specialist, now, need.deadline) < work:
            assert not any(s.expertise(need.icd10) == level and _working_time(
                s, now, need.deadline) >= need.review_time * (s.active_count + 1)
                for s in choice.ranked)
    shuffled = list(roster)
    rnd.shuffle(shuffled)
    again = choose(shuffled, need, now, leave)
    assert (again.specialist and again.specialist.id) == (choice.specialist
                                                          and choice.specialist.id)
    assert again.reasons == choice.reasons
