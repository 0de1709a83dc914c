"""1,000 malformed Kafka submissions interleaved with valid ones: every valid one opens a case,
every bad one is answered (`case.rejected` when it is a CloudEvent, `dead-letters` with the
raw bytes when it is not), and the consumer is still running afterwards."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import asyncpg
import orjson
import pytest

from oncoroute_shared.envelope import encode, new_event

from ..support.kafka import events, publish, read_all
from ..support.submissions import submission
from ..support.waiting import eventually
from .conftest import System

pytestmark = pytest.mark.e2e
BAD, VALID = 1000, 100


def _bad(i: int, run: str) -> tuple[str, bytes, str | None]:
    """(kind, raw bytes, event id when it is a CloudEvent) for the i-th malformed message."""
    marker = f"{run}-{i}"
    doc = submission(icd10="C61", source=f"burst-{run}", external_id=f"bad-{i}")
    kind = ("not_json", "not_an_event", "unknown_type", "invalid_data", "bad_code",
            "not_an_object")[i % 6]
    if kind == "not_json":
        return kind, f"garbage {marker} \xff{{".encode() + b"\xff\xfe", None
    if kind == "not_an_event":
        return kind, orjson.dumps({"marker": marker, "specversion": "1.0"}), None
    if kind == "unknown_type":
        event = new_event("case.submitted", source="t", subject=marker, data=doc)
        raw = orjson.loads(encode(event)) | {"type": f"com.example.{marker}"}
        return kind, orjson.dumps(raw), None
    if kind == "invalid_data":
        doc["patient"] = {"age": "old", "sex": "?"}
        doc["reasons"] = ["nosy"]
    elif kind == "bad_code":
        doc["diagnosis"]["icd10"] = "C99.Q"
    data: Any = [marker] if kind == "not_an_object" else doc
    event = new_event("case.submitted", source="t", subject=marker, data=data)
    return kind, encode(event), event.id


async def test_a_burst_of_malformed_submissions_loses_nothing_and_stalls_nothing(
    system: System,
) -> None:
    run = uuid.uuid4().hex[:8]
    source = f"burst-{run}"
    bad = [_bad(i, run) for i in range(BAD)]
    valid = [submission(icd10="C61", source=source, external_id=f"ok-{i}") for i in range(VALID)]
    records: list[tuple[bytes | None, bytes]] = []
    for i, (_kind, raw, _id) in enumerate(bad):
        records.append((None, raw))
        if i % (BAD // VALID) == 0:
            doc = valid[i // (BAD // VALID)]
            records.append((doc["external_id"].encode(), encode(new_event(
                "case.submitted", source=source, subject=doc["external_id"], data=doc))))
    assert len(records) == BAD + VALID
    bootstrap = system.infra.kafka or ""
    await publish(bootstrap, "case-submissions", records)

    db = await asyncpg.connect(system.infra.database_url)
    try:
        async def opened(n: int) -> bool:
            return await db.fetchval("SELECT count(*) FROM intake.cases WHERE source = $1",
                                     source) == n

        await eventually(lambda: opened(VALID), timeout=180, what="every valid submission")
        # the consumer is still running: one more, sent after the burst, opens too
        late = submission(icd10="C61", source=source, external_id="after-the-burst")
        await publish(bootstrap, "case-submissions", [(b"after", encode(new_event(
            "case.submitted", source=source, subject="after", data=late)))])
        await eventually(lambda: opened(VALID + 1), timeout=120,
                         what="a submission sent after the burst")
    finally:
        await db.close()

    expected = Counter(kind for kind, _raw, _id in bad)
    rejected_ids = {event_id for _kind, _raw, event_id in bad if event_id}

    async def all_rejected() -> set[str] | None:
        seen = {e.data["submission_event_id"] for e in await events(bootstrap, "cases")
                if e.type.endswith("case.rejected.v1")} & rejected_ids
        return seen if seen == rejected_ids else None

    await eventually(all_rejected, timeout=120, interval=2,
                     what="case.rejected for every bad event")
    raws = {raw for kind, raw, _id in bad if kind in ("not_json", "not_an_event",
                                                      "unknown_type")}

    async def all_dead_lettered() -> list[Any] | None:
        letters = [r for r in await read_all(bootstrap, "dead-letters") if r.value in raws]
        return letters if len({r.value for r in letters}) == len(raws) else None

    letters = await eventually(all_dead_lettered, timeout=120, interval=2,
                               what="the unparseable messages in dead-letters, untouched")
    assert len(rejected_ids) == expected["invalid_data"] + expected["bad_code"] + \
        expected["not_an_object"]
    assert len(raws) == expected["not_json"] + expected["not_an_event"] + \
        expected["unknown_type"]
    headers = dict(letters[0].headers)
    assert headers["x-dead-letter-consumer"] == b"intake.case-submissions"
    assert headers["x-dead-letter-error"].startswith(b"permanent:")
