from __future__ import annotations

import pytest

from oncoroute_shared.contracts.registry import EVENTS, short_type, topic_for
from oncoroute_shared.envelope import EnvelopeError, decode, encode, full_type, new_event

pytestmark = pytest.mark.unit


def test_types_are_prefixed_and_versioned() -> None:
    assert full_type("case.opened") == "org.oncoroute.case.opened.v1"
    assert short_type("org.oncoroute.case.opened.v1") == "case.opened"
    assert short_type("org.oncoroute.case.opened.v2") is None


def test_event_carries_case_id_as_subject_and_roundtrips() -> None:
    event = new_event("case.closed", source="s", subject="case-9",
                      data={"case_id": "case-9", "reason": "withdrawn"})
    back = decode(encode(event))
    assert back.subject == "case-9" and back.specversion == "1.0"
    assert back.data == {"case_id": "case-9", "reason": "withdrawn"}


@pytest.mark.parametrize("raw", [b"", b"{", b"null", b'{"specversion": "0.3"}'])
def test_decode_names_the_problem(raw: bytes) -> None:
    with pytest.raises(EnvelopeError) as info:
        decode(raw)
    assert str(info.value)


def test_every_event_type_has_a_topic() -> None:
    assert {topic_for(t) for t in EVENTS} >= {"cases", "assignments", "sla-events"}


@pytest.mark.parametrize("field", ["id", "source", "type", "subject"])
def test_control_characters_in_envelope_fields_are_refused(field: str) -> None:
    import orjson

    doc = {"specversion": "1.0", "id": "e1", "source": "s", "type": "org.oncoroute.case.closed.v1",
           "time": "2026-11-21T10:00:00Z", "subject": "c1", "data": {}}
    doc[field] = "bad\x00value"
    with pytest.raises(EnvelopeError, match=field):
        decode(orjson.dumps(doc))
