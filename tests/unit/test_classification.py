from __future__ import annotations

import pytest

from oncoroute_intake.bootstrap import validate_policy
from oncoroute_intake.domain.classification import classify, normalise_icd10
from oncoroute_shared.contracts.submissions import Submission
from oncoroute_shared.policy import load_document

from ..support.submissions import submission

pytestmark = pytest.mark.unit
POLICY = validate_policy(load_document(None))


def _classify(icd10: str | None, morphology: str | None = None, **extra: object):  # type: ignore[no-untyped-def]
    doc = submission()
    doc["diagnosis"] = {"icd10": icd10, "icd_o3_morphology": morphology}
    doc.update(extra)
    return classify(Submission.model_validate(doc), POLICY)


@pytest.mark.parametrize(("code", "group"), [
    ("C50.9", "breast"), ("C18.7", "gastrointestinal"), ("C34.1", "thoracic"),
    ("C45.0", "thoracic"), ("C61", "genitourinary"), ("C92.0", "haematologic"),
    ("C00.1", "head_and_neck"), ("C32.9", "head_and_neck"), ("C80.1", "unknown_primary"),
])
def test_tumour_group_by_icd10_block(code: str, group: str) -> None:
    assert _classify(code).tumor_group == group


@pytest.mark.parametrize("code", ["C91.0", "C92.0", "C92.00", "c92.4", "C9250", "C95.0", "C83.7"])
def test_fast_progressing_codes(code: str) -> None:
    result = _classify(code)
    assert result.tier == "fast_progressing" and result.fast_progressing


@pytest.mark.parametrize("code", ["C92.1", "C91.1", "C50.9", "C83.3"])
def test_other_codes_are_standard(code: str) -> None:
    assert _classify(code).tier == "standard"


def test_small_cell_by_morphology() -> None:
    result = _classify("C34.9", "8041/3")
    assert result.fast_progressing and result.rule == "small_cell_carcinoma"


def test_urgent_with_reason_is_fast_progressing() -> None:
    assert _classify("C50.9", urgent=True, urgent_reason="rapid growth").fast_progressing
    assert not _classify("C50.9", urgent=True).fast_progressing


def test_unclassifiable_opens_standard_for_triage() -> None:
    result = _classify(None)
    assert (result.tier, result.needs_triage, result.tumor_group) == ("standard", True, None)


def test_normalise() -> None:
    assert normalise_icd10(" c9200 ") == "C92.00"
    assert normalise_icd10("C61") == "C61"
