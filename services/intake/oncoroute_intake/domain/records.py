"""Records completeness: which of the policy's requirements a case does not yet meet. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from oncoroute_shared.contracts.cases import CaseStatus

from .policy import RecordRequirement, RecordsPolicy


@dataclass(frozen=True)
class Completeness:
    unmet: tuple[RecordRequirement, ...]

    @property
    def complete(self) -> bool:
        return not self.unmet

    @property
    def missing_records(self) -> list[str]:
        """The kinds that would meet each unmet requirement, in policy order, once each."""
        return list(dict.fromkeys(kind for req in self.unmet for kind in req.any_of))


def completeness(reasons: Iterable[str], treatments: Iterable[str], kinds: Iterable[str],
                 policy: RecordsPolicy) -> Completeness:
    asked, proposed, held = set(reasons), set(treatments), set(kinds)
    unmet = tuple(
        req for req in policy.requirements
        if (asked & set(req.reasons) or proposed & set(req.treatments))
        and not held & set(req.any_of)
    )
    return Completeness(unmet)


def status_for(complete: bool, fast_progressing: bool, closed: bool = False) -> CaseStatus:
    """`ready` means route it now: complete, or fast-progressing and not to be kept waiting."""
    if closed:
        return "closed"
    return "ready" if complete or fast_progressing else "awaiting_records"
