"""The demo feed's synthetic cases pass intake's checks (vocabularies, real ICD-10 codes)."""

from __future__ import annotations

import random

import pytest

from oncoroute_intake.domain.codes import load
from oncoroute_intake.domain.validation import check_submission
from oncoroute_shared.cli.demo import synthetic_submission

pytestmark = pytest.mark.unit


def test_every_synthetic_submission_is_valid() -> None:
    rng, valid = random.Random(3), load()
    subs = [check_submission(synthetic_submission(rng), valid) for _ in range(500)]
    assert [p for _s, p in subs if p] == []
    assert {s.source for s, _p in subs if s} == {"demo-hospital"}
    assert any(s and not s.records for s, _p in subs)  # some arrive with records missing
