"""Submission checks: every problem listed with its path, the fixed vocabularies, ICD-10
codes against the real WHO and CM code sets, and nothing that PostgreSQL cannot store."""

from __future__ import annotations

import pytest

from oncoroute_intake.domain.codes import is_valid_icd10, load
from oncoroute_intake.domain.validation import check_submission
from oncoroute_shared.contracts.submissions import REASONS, RECORD_KINDS, TREATMENTS

from ..support.submissions import submission

pytestmark = pytest.mark.unit
VALID = load()


def _paths(doc: object) -> dict[str, str]:
    sub, problems = check_submission(doc, VALID)
    assert sub is None
    return {p.path: p.message for p in problems}


@pytest.mark.parametrize("code", ["C92.0", "C92.00", "c92.00", "C9200", "C92.A0", "C61",
                                  "C50.911", "D05.1", "C34.1", "C80.1", "C83.7"])
def test_real_who_and_cm_codes_are_valid(code: str) -> None:
    assert is_valid_icd10(code)


@pytest.mark.parametrize("code", ["C92.9Z", "X99.99", "C00-C14", "C00-C97", "II", "C", "",
                                  "C50.99999", "CXX"])
def test_made_up_codes_blocks_and_chapters_are_not(code: str) -> None:
    assert not is_valid_icd10(code)


def test_a_valid_submission_with_every_v1_field() -> None:
    doc = submission(
        questions=["Is surgery really needed?"], report_language="en-GB",
        callback_url="https://his.example.org/hooks/oncoroute", urgent=False,
    )
    doc["diagnosis"]["diagnosed_on"] = "2026-10-01"
    doc["first_opinion"]["proposed_treatments"] = ["surgery", "chemotherapy"]
    doc["records"][0]["received_at"] = "2026-10-02T09:00:00Z"
    sub, problems = check_submission(doc, VALID)
    assert problems == [] and sub is not None
    assert sub.first_opinion.proposed_treatments == ["surgery", "chemotherapy"]
    assert str(sub.diagnosis.diagnosed_on) == "2026-10-01"


def test_every_problem_is_listed_with_its_path_not_only_the_first() -> None:
    doc = submission(reasons=["confirm_diagnosis", "curiosity"], urgent=True)
    doc["patient"]["age"] = -1
    doc["patient"]["sex"] = "x"
    doc["diagnosis"]["icd10"] = "C99.9"
    doc["records"] = [{"kind": "xray", "uri": ""}]
    doc["first_opinion"]["proposed_treatments"] = ["homeopathy"]
    del doc["external_id"]
    paths = _paths(doc)
    assert set(paths) == {
        "external_id", "patient.age", "patient.sex", "reasons.1", "records.0.kind",
        "records.0.uri", "first_opinion.proposed_treatments.0", "diagnosis.icd10",
        "urgent_reason",
    }
    assert "WHO ICD-10 or ICD-10-CM" in paths["diagnosis.icd10"]
    assert "C99.9" not in paths["diagnosis.icd10"]  # messages never echo clinical values
    assert "confirm_diagnosis" in paths["reasons.1"]  # names the vocabulary


def test_the_vocabularies_are_the_published_ones() -> None:
    assert REASONS == ("confirm_diagnosis", "treatment_options", "rare_cancer",
                       "unclear_test_results", "chemotherapy_recommended",
                       "surgery_recommended", "lack_of_local_expertise", "clinical_trials",
                       "confirm_treatment_plan", "reassurance", "other")
    assert RECORD_KINDS == ("pathology_report", "pathology_slides", "imaging", "imaging_report",
                            "lab_results", "genomic_report", "clinical_notes",
                            "discharge_summary", "treatment_plan", "other")
    assert TREATMENTS == ("surgery", "chemotherapy", "radiotherapy", "immunotherapy",
                          "targeted_therapy", "hormone_therapy", "transplant",
                          "watchful_waiting", "other")


@pytest.mark.parametrize(("mutate", "path"), [
    (lambda d: d["patient"].update(reference="MRN\x00"), "patient.reference"),
    (lambda d: d.update(questions=["ok", "bad\x00"]), "questions.1"),
    (lambda d: d["diagnosis"].update(icd10="C50\x00"), "diagnosis.icd10"),
])
def test_nul_characters_are_refused_where_they_are(mutate, path: str) -> None:  # type: ignore[no-untyped-def]
    doc = submission()
    mutate(doc)
    assert "NUL" in _paths(doc)[path]


@pytest.mark.parametrize("doc", [None, [], "text", 3, {"a": [[[[]]]]}])
def test_anything_that_is_not_a_submission_gets_problems_not_an_exception(doc: object) -> None:
    assert _paths(doc)


def test_unknown_fields_are_refused() -> None:
    assert "colour" in _paths(submission(colour="blue"))


def test_source_fills_only_a_missing_source() -> None:
    doc = submission()
    del doc["source"]
    sub, _ = check_submission(doc, VALID, source="fhir-sender")
    assert sub is not None and sub.source == "fhir-sender"


def test_a_submission_too_large_to_route_is_refused_with_its_size() -> None:
    """Every field within its bounds, yet larger than a `case.opened` may be (the broker takes
    1 MiB): refused at the door, saying how large, never stored and never stuck in the outbox."""
    doc = submission()
    uri = "https://pacs.example.org/" + "€" * 1970  # 2,000 characters, 5,935 bytes
    doc["records"] = [{"kind": "imaging", "uri": uri} for _ in range(160)]
    sub, problems = check_submission(doc, VALID)
    assert sub is None
    assert [p.path for p in problems] == ["(root)"]
    assert problems[0].message.startswith("9") and "bytes once stored, more than the 921600" \
        in problems[0].message
    assert "€" not in problems[0].message
    doc["records"] = doc["records"][:150]  # 150 of them fit
    assert check_submission(doc, VALID)[1] == []
