"""Classification by the default policy: tumour group by ICD-10 block (in-situ and uncertain
behaviour by site), free-text fallback, fast-progressing rules, triage; and the policy checks."""

from __future__ import annotations

import copy

import pytest

from oncoroute_intake.bootstrap import validate_policy
from oncoroute_intake.domain.classification import classify, normalise_icd10
from oncoroute_shared.contracts.cases import Classification
from oncoroute_shared.contracts.submissions import Submission
from oncoroute_shared.policy import load_document
from oncoroute_shared.settings import SettingsError

from ..support.submissions import submission

pytestmark = pytest.mark.unit
DOC = load_document(None)
POLICY = validate_policy(DOC).classification


def _classify(icd10: str | None, morphology: str | None = None, description: str | None = None,
              **extra: object) -> Classification:
    doc = submission()
    doc["diagnosis"] = {"icd10": icd10, "icd_o3_morphology": morphology,
                        "description": description}
    doc.update(extra)
    return classify(Submission.model_validate(doc), POLICY)


@pytest.mark.parametrize(("code", "group"), [
    ("C00.1", "head_and_neck"), ("C14.8", "head_and_neck"), ("C30.0", "head_and_neck"),
    ("C32.9", "head_and_neck"), ("C15.9", "gastrointestinal"), ("C18.7", "gastrointestinal"),
    ("C26.1", "gastrointestinal"), ("C33", "thoracic"), ("C34.1", "thoracic"),
    ("C39.9", "thoracic"), ("C45.0", "thoracic"), ("C40.2", "sarcoma"), ("C41.9", "sarcoma"),
    ("C46.0", "sarcoma"), ("C49.9", "sarcoma"), ("C43.5", "skin"), ("C44.91", "skin"),
    ("C50.9", "breast"), ("C50.911", "breast"), ("C51.9", "gynaecologic"),
    ("C56", "gynaecologic"), ("C58", "gynaecologic"), ("C61", "genitourinary"),
    ("C67.9", "genitourinary"), ("C68.0", "genitourinary"), ("C69.2", "neuro"),
    ("C71.9", "neuro"), ("C72.0", "neuro"), ("C73", "endocrine"), ("C75.1", "endocrine"),
    ("C76.0", "unknown_primary"), ("C80.1", "unknown_primary"), ("C81.9", "haematologic"),
    ("C92.0", "haematologic"), ("C92.A0", "haematologic"), ("C96.9", "haematologic"),
])
def test_tumour_group_by_icd10_block(code: str, group: str) -> None:
    result = _classify(code)
    assert result.tumor_group == group and not result.needs_triage


@pytest.mark.parametrize(("code", "group"), [
    ("D00.0", "head_and_neck"), ("D00.1", "gastrointestinal"), ("D01.0", "gastrointestinal"),
    ("D02.0", "head_and_neck"), ("D02.2", "thoracic"), ("D03.5", "skin"), ("D04.9", "skin"),
    ("D05.1", "breast"), ("D05.10", "breast"), ("D06.9", "gynaecologic"),
    ("D07.0", "gynaecologic"), ("D07.5", "genitourinary"), ("D09.0", "genitourinary"),
    ("D09.3", "endocrine"), ("D37.0", "head_and_neck"), ("D37.6", "gastrointestinal"),
    ("D38.1", "thoracic"), ("D39.1", "gynaecologic"), ("D40.0", "genitourinary"),
    ("D41.0", "genitourinary"), ("D43.2", "neuro"), ("D44.0", "endocrine"),
    ("D45", "haematologic"), ("D46.9", "haematologic"), ("D47.1", "haematologic"),
    ("D48.0", "sarcoma"), ("D48.5", "skin"), ("D48.6", "breast"), ("D48.9", "unknown_primary"),
])
def test_in_situ_and_uncertain_behaviour_go_to_their_site(code: str, group: str) -> None:
    assert _classify(code).tumor_group == group


@pytest.mark.parametrize(("text", "group"), [
    ("Acute myeloid leukaemia", "haematologic"), ("acute lymphoblastic leukemia", "haematologic"),
    ("AML, FLT3 positive", "haematologic"), ("relapsed ALL", "haematologic"),
    ("Stage IV NSCLC", "thoracic"), ("carcinoma of the breast", "breast"),
    ("Glioblastoma, IDH wild-type", "neuro"), ("osteosarcoma of femur", "sarcoma"),
])
def test_free_text_fallback_through_synonyms(text: str, group: str) -> None:
    result = _classify(None, description=text)
    assert result.tumor_group == group and not result.needs_triage


def test_acronyms_match_case_and_whole_words_only() -> None:
    assert _classify(None, description="all tests pending").tumor_group is None
    assert _classify(None, description="Ballroom").tumor_group is None


@pytest.mark.parametrize("code", ["C91.0", "C92.0", "C92.00", "c92.4", "C9250", "C92.6",
                                  "C92.A", "C92.A0", "C93.0", "C94.0", "C95.0", "C83.7"])
def test_fast_progressing_codes(code: str) -> None:
    result = _classify(code)
    assert (result.tier, result.fast_progressing, result.matched_on) == \
        ("fast_progressing", True, "icd10")
    assert result.rule in ("acute_leukaemia", "burkitt_lymphoma")


@pytest.mark.parametrize("code", ["C92.1", "C91.1", "C50.9", "C83.3", "C92.9", "C93.1"])
def test_other_codes_are_standard(code: str) -> None:
    result = _classify(code)
    assert (result.tier, result.rule, result.fast_progressing) == \
        ("standard", "default_standard", False)


@pytest.mark.parametrize("morphology", ["8041/3", "8042/3", "8043/3", "8044/3", "8045/3"])
def test_small_cell_by_morphology(morphology: str) -> None:
    result = _classify("C34.9", morphology)
    assert result.fast_progressing and result.rule == "small_cell_carcinoma"
    assert result.matched_on == "morphology"


def test_non_small_cell_is_not_small_cell() -> None:
    assert not _classify("C34.9", "8046/3").fast_progressing
    assert not _classify(None, description="non-small cell lung cancer").fast_progressing
    assert _classify(None, description="small cell lung cancer").rule == "small_cell_carcinoma"


def test_description_decides_the_tier_only_without_a_code() -> None:
    by_text = _classify(None, description="Acute myeloid leukaemia")
    assert (by_text.rule, by_text.matched_on) == ("acute_leukaemia", "description")
    assert not _classify("C92.1", description="acute myeloid leukaemia").fast_progressing


def test_urgent_with_reason_is_fast_progressing() -> None:
    result = _classify("C50.9", urgent=True, urgent_reason="rapid growth")
    assert result.fast_progressing and result.rule == "submitter_marked_urgent"
    assert not _classify("C50.9", urgent=True).fast_progressing


def test_unclassifiable_opens_standard_for_triage() -> None:
    for result in (_classify(None), _classify("Z85.3"), _classify(None, description="mass")):
        assert (result.tier, result.needs_triage, result.tumor_group, result.rule) == \
            ("standard", True, None, "unclassified")


def test_fast_progressing_without_a_group_still_needs_triage() -> None:
    result = _classify(None, "8041/3")
    assert result.fast_progressing and result.needs_triage


def test_normalise() -> None:
    assert normalise_icd10(" c9200 ") == "C92.00"
    assert normalise_icd10("C61") == "C61"
    assert normalise_icd10("C92.") == "C92"
    assert normalise_icd10("  ") is None


def test_the_policy_not_python_decides() -> None:
    doc = copy.deepcopy(DOC)
    for rule in doc["classification"]["tumor_groups"] + doc["classification"]["synonyms"]:
        rule["group"] = "mammary" if rule["group"] == "breast" else rule["group"]
    doc["classification"]["fast_progressing"].append({"rule": "test_rule", "icd10": ["C50.9"]})
    policy = validate_policy(doc).classification
    result = classify(Submission.model_validate(submission(icd10="C50.9")), policy)
    assert (result.tumor_group, result.rule) == ("mammary", "test_rule")


@pytest.mark.parametrize(("path", "value", "message"), [
    (("classification", "tumor_groups", 0, "ranges"), ["C15-26"], "not an ICD-10 range"),
    (("classification", "fast_progressing", 2, "morphology"), ["8041"], "ICD-O-3"),
    (("classification", "synonyms", 0, "group"), "nowhere", "no ICD-10 ranges"),
    (("records", "requirements", 0, "any_of"), ["x_ray"], "unknown any_of"),
    (("records", "requirements", 0, "reasons"), ["curiosity"], "unknown reasons"),
])
def test_a_bad_policy_stops_the_service_naming_the_key(path: tuple, value: object,
                                                        message: str) -> None:
    doc = copy.deepcopy(DOC)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(SettingsError, match=message) as err:
        validate_policy(doc)
    assert f"{path[0]}." in str(err.value)
