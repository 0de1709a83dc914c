"""Who should review a seat. Pure: the same inputs give the same choice."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from .roster import Specialist

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SeatNeed:
    case_id: str
    seat: str
    role: str  # "any" accepts every role
    tumor_group: str | None
    first_opinion_physician: str | None = None
    first_opinion_institution: str | None = None
    excluded: frozenset[str] = frozenset()  # declined, expired, or holding another seat


@dataclass(frozen=True)
class Choice:
    specialist: Specialist | None
    reasons: dict[str, int]  # why the others were not eligible, in counts


def ineligibility(s: Specialist, need: SeatNeed) -> str | None:
    """The first hard rule `s` breaks for `need`, or None when eligible."""
    if not s.active:
        return "inactive"
    if need.tumor_group is None or need.tumor_group not in s.tumor_groups:
        return "other_tumor_group"
    if need.role != "any" and need.role not in s.roles:
        return "other_role"
    if s.id in need.excluded:
        return "already_on_case_or_declined"
    if need.first_opinion_physician and s.id == need.first_opinion_physician:
        return "conflict_of_interest"
    if (need.first_opinion_institution and s.institution
            and s.institution.casefold() == need.first_opinion_institution.casefold()):
        return "conflict_of_interest"
    if s.active_count >= s.max_active:
        return "at_capacity"
    return None


def choose(candidates: list[Specialist], need: SeatNeed) -> Choice:
    eligible: list[Specialist] = []
    reasons: Counter[str] = Counter()
    for s in candidates:
        why = ineligibility(s, need)
        if why is None:
            eligible.append(s)
        else:
            reasons[why] += 1
    if not eligible:
        return Choice(None, dict(reasons))
    best = min(eligible, key=lambda s: (s.active_count / max(s.max_active, 1),
                                        s.last_assigned_at or EPOCH, s.id))
    return Choice(best, dict(reasons))
