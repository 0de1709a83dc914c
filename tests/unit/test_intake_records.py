"""Records completeness by the policy's `records` section, and the status it leads to."""

from __future__ import annotations

import pytest

from oncoroute_intake.bootstrap import validate_policy
from oncoroute_intake.domain.records import completeness, status_for
from oncoroute_shared.policy import load_document

pytestmark = pytest.mark.unit
POLICY = validate_policy(load_document(None)).records


def test_confirm_diagnosis_needs_pathology_report_or_slides() -> None:
    missing = completeness(["confirm_diagnosis"], [], [], POLICY)
    assert not missing.complete
    assert missing.missing_records == ["pathology_report", "pathology_slides"]
    assert completeness(["confirm_diagnosis"], [], ["pathology_slides"], POLICY).complete
    assert completeness(["confirm_diagnosis"], [], ["pathology_report"], POLICY).complete


def test_staging_questions_need_imaging() -> None:
    check = completeness(["treatment_options"], [], ["pathology_report"], POLICY)
    assert check.missing_records == ["imaging", "imaging_report"]
    by_treatment = completeness([], ["surgery"], ["pathology_report"], POLICY)
    assert [r.name for r in by_treatment.unmet] == ["staging_imaging"]
    assert completeness(["treatment_options"], ["surgery"], ["imaging"], POLICY).complete


def test_several_unmet_requirements_list_each_kind_once() -> None:
    check = completeness(["confirm_diagnosis", "clinical_trials", "unclear_test_results"],
                         [], ["lab_results"], POLICY)
    assert [r.name for r in check.unmet] == ["diagnostic_pathology", "molecular_profile"]
    assert check.missing_records == ["pathology_report", "pathology_slides", "genomic_report"]


def test_requests_that_need_nothing_are_complete() -> None:
    assert completeness(["reassurance", "other"], [], [], POLICY).complete
    assert completeness([], [], [], POLICY).complete


@pytest.mark.parametrize(("complete", "fast", "status"), [
    (True, False, "ready"), (False, False, "awaiting_records"),
    (True, True, "ready"), (False, True, "ready"),
])
def test_status_fast_progressing_cases_are_routed_even_when_records_are_missing(
    complete: bool, fast: bool, status: str
) -> None:
    assert status_for(complete, fast) == status
    assert status_for(complete, fast, closed=True) == "closed"
