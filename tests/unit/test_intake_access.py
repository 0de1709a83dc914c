"""API keys and who may do what."""

from __future__ import annotations

import pytest

from oncoroute_intake.domain.access import Principal, key_hash, key_id_of

pytestmark = pytest.mark.unit


def test_keys_are_stored_as_sha256_hashes() -> None:
    digest = key_hash("ork_abc_secret")
    assert len(digest) == 64 and "secret" not in digest
    assert key_hash("ork_abc_secret") == digest != key_hash("ork_abc_secreT")


def test_key_id_is_readable_from_the_key() -> None:
    assert key_id_of("ork_0a1b2c_s3cr3t") == "0a1b2c"
    assert key_id_of("ork_0a1b2c") is None and key_id_of("Bearer x") is None


def test_a_submitter_acts_only_for_its_own_source() -> None:
    key = Principal("k1", "submitter", "st-marys")
    assert key.may_submit_for("st-marys") and not key.may_submit_for("other")
    assert key.may_read("st-marys") and not key.may_read("other")
    assert key.visible_source(None) == "st-marys" and key.visible_source("other") == "st-marys"


def test_an_operator_reads_and_acts_for_every_source() -> None:
    op = Principal("k2", "operator", None)
    assert op.may_submit_for("any") and op.may_read("any")
    assert op.visible_source(None) is None and op.visible_source("x") == "x"
