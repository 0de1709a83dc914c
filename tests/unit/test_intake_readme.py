"""The README's complete submission example is a valid v1 submission and means what the
README says it means."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from oncoroute_intake.bootstrap import validate_policy
from oncoroute_intake.domain.classification import classify
from oncoroute_intake.domain.codes import load
from oncoroute_intake.domain.records import completeness
from oncoroute_intake.domain.validation import check_submission
from oncoroute_shared.policy import load_document

pytestmark = pytest.mark.unit
README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_example_is_a_valid_complete_submission() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Submitting a case"):text.index("## Intake API and access")]
    example = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))  # type: ignore[union-attr]
    sub, problems = check_submission(example, load())
    assert problems == [] and sub is not None
    policy = validate_policy(load_document(None))
    result = classify(sub, policy.classification)
    assert (result.tumor_group, result.tier) == ("haematologic", "fast_progressing")
    assert completeness(sub.reasons, sub.first_opinion.proposed_treatments,
                        [r.kind for r in sub.records], policy.records).complete
    every_field = {"source", "external_id", "patient", "diagnosis", "first_opinion", "reasons",
                   "questions", "report_language", "records", "referring_physician",
                   "callback_url", "urgent"}
    assert every_field <= set(example)
