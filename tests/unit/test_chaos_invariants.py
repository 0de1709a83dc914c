"""The chaos checker's dead-letter rule: a reviewer's action refused because the test withdrew
the case is the right answer; every other dead letter is a violation."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from ..chaos.invariants import History, nothing_valid_dead_lettered


def _history(letters: list[dict[str, str]], withdrawn: set[str]) -> History:
    return History(
        submitted=set(), withdrawn=withdrawn, events={}, dead_letters=letters, cases=[],
        seats=[], assignments=[{"assignment_id": "a-1", "case_id": "case-1"},
                               {"assignment_id": "a-2", "case_id": "case-2"}],
        specialists=[], clocks=[], timers=[], deliveries=[], outbox={}, inbox=set(),
        consumers={}, received=Counter(), cutoff=datetime.now(UTC))


def _refused(assignment: str, status: str = "released") -> dict[str, str]:
    return {"x-dead-letter-consumer": "matcher.specialist-actions",
            "x-dead-letter-error": f"permanent: conflict: assignment {assignment}: cannot"
                                   f" opinion an assignment that is {status}"}


def test_an_opinion_refused_on_a_withdrawn_cases_released_offer_is_no_violation() -> None:
    check = nothing_valid_dead_lettered(_history([_refused("a-1")], withdrawn={"case-1"}))
    assert check.violations == []
    assert "1 reviewer actions refused" in check.note


def test_the_same_refusal_on_a_case_nobody_withdrew_is_a_violation() -> None:
    check = nothing_valid_dead_lettered(_history([_refused("a-2")], withdrawn={"case-1"}))
    assert len(check.violations) == 1


def test_other_refusals_and_other_dead_letters_are_violations() -> None:
    letters = [_refused("a-1", status="expired"),
               {"x-dead-letter-consumer": "notify.cases",
                "x-dead-letter-error": "permanent: invalid data: case_id: field required"}]
    check = nothing_valid_dead_lettered(_history(letters, withdrawn={"case-1"}))
    assert len(check.violations) == 2
