"""Hostile Kafka messages, drawn by hypothesis: not JSON, wrong CloudEvents fields, unknown
types, wrong data types, deep nesting, huge payloads, control characters, injection strings."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from oncoroute_shared.contracts.registry import EVENTS
from oncoroute_shared.envelope import full_type

INJECTIONS = ["'; DROP TABLE cases; --", "<script>alert(1)</script>", "${jndi:ldap://x/a}",
              "../../../../etc/passwd", "\x00\x1b[2J", "{{7*7}}", "%n%n%n%n", "\u202e\ufeff"]
KINDS = ("not_json", "not_object", "bad_envelope", "unknown_type", "bad_data", "deep", "huge")
_WEIGHTED = (*KINDS[:5] * 4, "bad_data", "bad_data", "deep", "deep", "huge")


def _envelope(event_type: Any, data: Any, **extra: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": extra.pop("id", "fuzz"), "source": "fuzzer",
            "type": event_type, "time": "2026-11-21T10:00:00Z", "subject": "fuzz-case",
            "data": data, **extra}


ints = st.integers(-(2**63), 2**63 - 1)
texts = st.one_of(st.text(max_size=40), st.sampled_from(INJECTIONS))
scalars = st.one_of(st.none(), st.booleans(), ints, st.floats(allow_nan=False), texts)
not_objects = st.one_of(scalars, st.lists(scalars, max_size=5))


@st.composite
def hostile(draw: st.DrawFn) -> tuple[str, bytes]:
    """(kind, bytes). Every message is unprocessable by design; ids are made distinct later."""
    kind = draw(st.sampled_from(_WEIGHTED))
    event_id = "fuzz-id"
    if kind == "not_json":
        raw = draw(st.binary(min_size=0, max_size=200).filter(lambda b: not _is_json(b)))
        return kind, raw
    if kind == "not_object":
        return kind, orjson.dumps(draw(not_objects))
    if kind == "bad_envelope":
        field = draw(st.sampled_from(["specversion", "id", "source", "type", "time"]))
        doc = _envelope(full_type("case.submitted"), {}, id=event_id)
        if draw(st.booleans()):
            del doc[field]
        else:
            doc[field] = draw(st.one_of(ints, st.just(""), st.just("0.3"),
                                        st.just("yesterday"), st.lists(ints, max_size=2)))
        return kind, orjson.dumps(doc)
    if kind == "unknown_type":
        name = draw(st.one_of(texts, st.just("org.oncoroute.case.exploded.v1"),
                              st.just("org.oncoroute.case.opened.v9")).filter(bool))
        return kind, orjson.dumps(_envelope(name, {"x": 1}, id=event_id))
    short = draw(st.sampled_from(sorted(EVENTS)))
    if kind == "bad_data":
        return kind, orjson.dumps(_envelope(full_type(short), draw(not_objects), id=event_id))
    if kind == "deep":
        depth = draw(st.integers(600, 2000))
        return kind, b'{"data":' + b"[" * depth + b"]" * depth + b"}"
    size = draw(st.integers(100_000, 600_000))
    return kind, orjson.dumps(_envelope(full_type(short), "A" * size, id=event_id))


def _is_json(raw: bytes) -> bool:
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False
    return True


def draw_hostile(count: int, draw_seed: int = 0) -> list[tuple[str, bytes]]:
    """`count` hostile messages drawn from `draw_seed` (a run prints its seed to replay it)."""
    out: list[tuple[str, bytes]] = []

    @seed(draw_seed)
    @settings(max_examples=count * 3, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        out.append(data.draw(hostile()))

    collect()
    assert len(out) >= count, f"drew {len(out)} of {count}"
    return [(kind, raw.replace(b'"fuzz-id"', f'"fuzz-{n}"'.encode()))
            for n, (kind, raw) in enumerate(out[:count])]
