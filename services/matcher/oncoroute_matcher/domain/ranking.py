"""Who should review a seat. Pure: the same inputs give the same choice.

Hard rules are never broken (`ineligibility`): role, tumour group, expertise when required,
independence, licence, language, on-call reserve, capacity, no time off between now and the
deadline, and working now (unless on call). Among the eligible, the ranking is: exact
cancer-type expertise, then whether the reviewer can finish before the deadline given their
queue, then load ratio, then least recently assigned, then id (so ties are deterministic).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .availability import Interval, fits, overlaps, working_intervals, works_at
from .roster import Specialist, icd10_key

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NO_LEAVE: Mapping[str, Sequence[Interval]] = {}


@dataclass(frozen=True)
class SeatNeed:
    case_id: str
    seat: str
    role: str  # a label; "any" with no `roles` accepts every role
    tumor_group: str | None
    first_opinion_physician: str | None = None
    first_opinion_institution: str | None = None  # None when independence is not required
    excluded: frozenset[str] = frozenset()  # declined, expired, or on the case already
    roles: frozenset[str] = frozenset()  # any of these; empty: `role`, or any when "any"
    icd10: str | None = None
    require_expert: bool = False  # rare cancer: expert level for the exact cancer type
    fast_progressing: bool = False  # may use on-call reserve
    patient_region: str | None = None  # None when licensing is not required
    report_language: str | None = None
    deadline: datetime | None = None  # None: only "now" matters
    review_time: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if not self.roles and self.role not in ("any", ""):
            object.__setattr__(self, "roles", frozenset({self.role}))


@dataclass(frozen=True)
class Choice:
    specialist: Specialist | None
    reasons: dict[str, int]  # why the others were not eligible, in counts
    finishes_in_time: bool = False
    ranked: list[Specialist] = field(default_factory=list)  # every eligible one, best first


class _Hours:
    """Working intervals between now and the deadline, computed once per (zone, hours)."""

    def __init__(self, now: datetime, deadline: datetime | None) -> None:
        self.now, self.deadline = now, deadline
        self._cache: dict[tuple[str, str], list[Interval]] = {}

    def of(self, s: Specialist) -> list[Interval] | None:
        """None: works at any hour (on call, or no working hours)."""
        if s.on_call or not s.working_hours:
            return None
        key = (s.timezone, s.working_hours)
        got = self._cache.get(key)
        if got is None:
            end = self.deadline if self.deadline and self.deadline > self.now else self.now
            got = working_intervals(s.working_hours, s.timezone, self.now,
                                    max(end, self.now + timedelta(seconds=1)))
            self._cache[key] = got
        return got

    def can_do(self, s: Specialist, reviews: int, review_time: timedelta) -> bool:
        work = review_time * reviews
        if self.deadline is None:
            return True
        intervals = self.of(s)
        if intervals is None:
            return self.now + work <= self.deadline
        return fits(intervals, work)


class _Rules:
    """The hard rules for one seat, with everything about the seat worked out once, so each
    candidate costs a few attribute checks (a decision looks at hundreds)."""

    def __init__(self, need: SeatNeed, now: datetime) -> None:
        self.need, self.now = need, now
        self.hours = _Hours(now, need.deadline)
        self.window_end = max(need.deadline or now, now + timedelta(seconds=1))
        self.institution = (need.first_opinion_institution or "").casefold()
        self.region = (need.patient_region or "").upper()
        self.language = (need.report_language or "").lower()
        self.icd10 = icd10_key(need.icd10) if need.icd10 else None

    def why_not(self, s: Specialist, leave: Sequence[Interval] = ()) -> str | None:
        """The first hard rule `s` breaks, or None when eligible."""
        need = self.need
        if not s.active:
            return "inactive"
        if need.tumor_group is None or need.tumor_group not in s.tumor_groups:
            return "other_tumor_group"
        if need.roles and need.roles.isdisjoint(s.roles):
            return "other_role"
        if s.id in need.excluded:
            return "already_on_case_or_declined"
        if s.id == need.first_opinion_physician:
            return "conflict_of_interest"
        if self.institution and s.institution and s.institution.casefold() == self.institution:
            return "conflict_of_interest"
        if self.region and self.region not in s.regions:
            return "not_licensed_in_region"
        if self.language and not _speaks(s, self.language):
            return "no_report_language"
        if need.require_expert and _expertise(s, self.icd10) != 0:
            return "not_expert_for_cancer_type"
        if s.on_call and not need.fast_progressing:
            return "on_call_reserve"
        if s.active_count >= s.max_active:
            return "at_capacity"
        if leave and overlaps(leave, self.now, self.window_end):
            return "on_leave"
        # whether they can finish before the deadline is ranked, not required: a case whose
        # deadline is near (or past) still needs a reviewer
        intervals = self.hours.of(s)
        if intervals is not None and not works_at(intervals, self.now):
            return "outside_working_hours"
        return None

    def rank_key(self, s: Specialist) -> tuple[object, ...]:
        in_time = self.hours.can_do(s, s.active_count + 1, self.need.review_time)
        return (_expertise(s, self.icd10), not in_time, s.active_count / max(s.max_active, 1),
                s.last_assigned_at or EPOCH, s.id)


def ineligibility(s: Specialist, need: SeatNeed, now: datetime,
                  leave: Sequence[Interval] = ()) -> str | None:
    """The first hard rule `s` breaks for `need`, or None when eligible."""
    return _Rules(need, now).why_not(s, leave)


def _expertise(s: Specialist, icd10: str | None) -> int:
    """0: expert in a code covering the case's, 1: general, 2: neither."""
    if icd10 is None or not s.cancer_types:
        return 2
    best = 2
    for code, level in s.cancer_types.items():
        if icd10.startswith(code.replace(".", "")):
            if level == "expert":
                return 0
            best = 1
    return best


def _speaks(s: Specialist, wanted: str) -> bool:
    base = wanted.split("-")[0]
    return any(lang == wanted or lang.split("-")[0] == base for lang in s.languages)


def choose(candidates: Sequence[Specialist], need: SeatNeed, now: datetime,
           leave: Mapping[str, Sequence[Interval]] = NO_LEAVE, *,
           ranked: bool = False) -> Choice:
    """The best eligible reviewer and, for the rest, why they are not eligible."""
    rules = _Rules(need, now)
    reasons: Counter[str] = Counter()
    best: Specialist | None = None
    best_key: tuple[object, ...] | None = None
    eligible: list[tuple[tuple[object, ...], Specialist]] = []
    for s in candidates:
        why = rules.why_not(s, leave.get(s.id, ()) if leave else ())
        if why is not None:
            reasons[why] += 1
            continue
        key = rules.rank_key(s)
        if ranked:
            eligible.append((key, s))
        if best_key is None or key < best_key:
            best, best_key = s, key
    order = [s for _, s in sorted(eligible, key=lambda p: p[0])] if ranked else []
    return Choice(best, dict(reasons), bool(best_key is not None and not best_key[1]), order)
