"""Inbox-guarded processing against the real PostgreSQL: one effect per event, bounded
retries, dead letters with the reason, and infrastructure failures never dead-lettered."""

from __future__ import annotations

import asyncio

import asyncpg
import orjson
import pytest
from opentelemetry import trace

from oncoroute_shared.envelope import encode, new_event
from oncoroute_shared.messaging.consumer import Processor, Record, Subscription, process_topics

pytestmark = pytest.mark.integration


def _record(value: bytes, offset: int = 7) -> Record:
    return Record("cases", 2, offset, b"case-1", value)


def _opened_event() -> bytes:
    return encode(new_event("case.closed", source="test", subject="case-1",
                            data={"case_id": "case-1", "reason": "withdrawn"}))


async def _effect(conn: asyncpg.Connection, event, data) -> None:  # type: ignore[no-untyped-def]
    await conn.execute("INSERT INTO effects (event_id, note) VALUES ($1, $2)", event.id,
                       data.reason)


async def _dead_letters(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT key, value, headers FROM outbox WHERE topic = 'dead-letters'")


async def test_redelivered_event_has_one_effect(scratch: asyncpg.Pool) -> None:
    sub = Subscription("cases", {"case.closed": _effect}, consumer="t.cases")
    processor = Processor(scratch, sub, max_attempts=3)
    raw = _opened_event()
    await processor.process(_record(raw, 1))
    await processor.process(_record(raw, 1))  # redelivery after a lost commit
    await processor.process(_record(raw, 9))  # a republished duplicate
    assert await scratch.fetchval("SELECT count(*) FROM effects") == 1
    assert await scratch.fetchval("SELECT count(*) FROM inbox") == 1


@pytest.mark.parametrize(("raw", "reason"), [
    (b"\x00\xffnot json", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (orjson.dumps({"specversion": "1.0", "id": "x"}), "not a CloudEvents 1.0 event"),
    (orjson.dumps({"specversion": "1.0", "id": "x", "source": "s", "time": "2026-01-01T00:00:00Z",
                   "type": "com.example.other"}), "unknown event type"),
    (encode(new_event("case.closed", source="t", subject="c", data={"case_id": 5})),
     "invalid data"),
])
async def test_bad_message_is_dead_lettered_untouched_with_reason(
    scratch: asyncpg.Pool, raw: bytes, reason: str
) -> None:
    sub = Subscription("cases", {"case.closed": _effect}, consumer="t.cases")
    await Processor(scratch, sub, max_attempts=3).process(_record(raw))
    [letter] = await _dead_letters(scratch)
    headers = dict(letter["headers"])
    assert bytes(letter["value"]) == raw
    assert reason in headers["x-dead-letter-error"]
    assert headers["x-dead-letter-consumer"] == "t.cases"
    assert (headers["x-dead-letter-topic"], headers["x-dead-letter-partition"],
            headers["x-dead-letter-offset"]) == ("cases", "2", "7")
    assert await scratch.fetchval("SELECT count(*) FROM effects") == 0


async def test_failing_handler_is_retried_then_dead_lettered(scratch: asyncpg.Pool) -> None:
    calls = 0

    async def broken(conn, event, data) -> None:  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        await conn.execute("INSERT INTO effects (event_id) VALUES ($1)", event.id)
        raise ValueError("bug")

    sub = Subscription("cases", {"case.closed": broken}, consumer="t.cases")
    processor = Processor(scratch, sub, max_attempts=3)
    rec = _record(_opened_event())
    for _ in range(2):
        with pytest.raises(ValueError):
            await processor.process(rec)  # raised: the offset is not committed
        assert await _dead_letters(scratch) == []
    await processor.process(rec)
    assert calls == 3
    [letter] = await _dead_letters(scratch)
    assert "handler failed 3 times: ValueError" in dict(letter["headers"])["x-dead-letter-error"]
    assert await scratch.fetchval("SELECT count(*) FROM effects") == 0  # rolled back each time


async def test_infrastructure_failure_is_never_dead_lettered(scratch: asyncpg.Pool) -> None:
    async def database_away(conn, event, data) -> None:  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("database away")

    sub = Subscription("cases", {"case.closed": database_away}, consumer="t.cases")
    processor = Processor(scratch, sub, max_attempts=2)
    for _ in range(4):
        with pytest.raises(ConnectionRefusedError):
            await processor.process(_record(_opened_event()))
    assert await _dead_letters(scratch) == []
    assert await scratch.fetchval("SELECT count(*) FROM inbox") == 0


def _closed(case_id: str, reason: str = "withdrawn") -> bytes:
    return encode(new_event("case.closed", source="test", subject=case_id,
                            data={"case_id": case_id, "reason": reason}))


async def _in_txn(conn: asyncpg.Connection, event, data) -> None:  # type: ignore[no-untyped-def]
    await conn.execute("INSERT INTO effects (event_id, note) VALUES ($1, txid_current()::text)",
                       event.id)


async def test_a_batch_commits_in_one_transaction(scratch: asyncpg.Pool) -> None:
    sub = Subscription("cases", {"case.closed": _in_txn}, consumer="t.cases")
    recs = [_record(_closed(f"c{n}"), offset=n) for n in range(20)]
    recs.insert(7, _record(b"garbage", offset=99))
    await Processor(scratch, sub, max_attempts=3).process_batch(recs)
    notes = {r["note"] for r in await scratch.fetch("SELECT note FROM effects")}
    assert await scratch.fetchval("SELECT count(*) FROM effects") == 20
    assert len(notes) == 1, "one transaction for the whole batch"
    [letter] = await _dead_letters(scratch)
    assert bytes(letter["value"]) == b"garbage"


async def test_a_batch_claims_its_events_in_the_inbox_once_each(scratch: asyncpg.Pool) -> None:
    """The inbox is filled for a whole batch in one statement: an event already processed,
    and an event that comes twice in the same batch, still have one effect each, in order."""
    order: list[str] = []

    async def note(conn, event, data) -> None:  # type: ignore[no-untyped-def]
        order.append(data.case_id)
        await conn.execute("INSERT INTO effects (event_id, note) VALUES ($1, $2)", event.id,
                           data.case_id)

    sub = Subscription("cases", {"case.closed": note}, consumer="t.cases")
    processor = Processor(scratch, sub, max_attempts=3)
    seen, twice = _closed("seen"), _closed("twice")
    await processor.process(_record(seen, offset=1))
    order.clear()
    recs = [_record(v, offset=n) for n, v in enumerate(
        [_closed("a"), seen, twice, _closed("b"), twice, _closed("c")], start=2)]
    await processor.process_batch(recs)
    assert order == ["a", "twice", "b", "c"]
    assert await scratch.fetchval("SELECT count(*) FROM effects") == 5
    assert await scratch.fetchval("SELECT count(*) FROM inbox") == 5
    offsets = {r["note"]: r["offset"] for r in await scratch.fetch(
        "SELECT e.note, i.\"offset\" FROM effects e JOIN inbox i USING (event_id)")}
    assert offsets == {"seen": 1, "a": 2, "twice": 4, "b": 5, "c": 7}


async def test_a_batch_handler_gets_a_batch_s_new_events_at_once_in_order(
    scratch: asyncpg.Pool,
) -> None:
    """With `batch_handler`, the new events of a batch reach it in one call, in order; seen
    ones are skipped, bad records still dead-lettered one by one; alone (the fallback after a
    failure) a record goes to its per-event handler."""
    calls: list[list[str]] = []

    async def together(conn, events) -> list:  # type: ignore[no-untyped-def]
        calls.append([b.data.case_id for b in events])
        for b in events:
            await _effect(conn, b.event, b.data)
        return []

    sub = Subscription("cases", {"case.closed": _effect}, consumer="t.cases",
                       batch_handler=together)
    processor = Processor(scratch, sub, max_attempts=3)
    seen = _closed("seen")
    await processor.process(_record(seen, offset=1))  # alone: the per-event handler
    assert calls == [] and await scratch.fetchval("SELECT count(*) FROM effects") == 1
    recs = [_record(v, offset=n) for n, v in enumerate(
        [_closed("a"), seen, b"garbage", _closed("b"), _closed("c")], start=2)]
    await processor.process_batch(recs)
    assert calls == [["a", "b", "c"]]
    assert await scratch.fetchval("SELECT count(*) FROM effects") == 4
    [letter] = await _dead_letters(scratch)
    assert bytes(letter["value"]) == b"garbage"


async def test_what_a_batch_handler_leaves_goes_one_by_one_after_it_with_its_trace(
    scratch: asyncpg.Pool,
) -> None:
    """The events a batch handler returns reach their per-event handlers after it, in the
    batch's order, in the same transaction, each with its own record's trace current."""
    order: list[str] = []

    async def together(conn, events):  # type: ignore[no-untyped-def]
        order.extend(f"batch:{b.data.case_id}" for b in events if b.data.case_id < "c")
        return [b for b in events if b.data.case_id >= "c"]

    async def one(conn, event, data) -> None:  # type: ignore[no-untyped-def]
        span = trace.get_current_span().get_span_context()
        order.append(f"one:{data.case_id}:{span.trace_id:032x}")
        await _in_txn(conn, event, data)

    sub = Subscription("cases", {"case.closed": one}, consumer="t.cases",
                       batch_handler=together)
    traces = {c: f"{n:032x}" for n, c in enumerate(["a", "d", "b", "c"], start=1)}
    recs = [Record("cases", 2, n, c.encode(), _closed(c),
                   {"traceparent": f"00-{traces[c]}-00f067aa0ba902b7-01"})
            for n, c in enumerate(traces)]
    await Processor(scratch, sub, max_attempts=3).process_batch(recs)
    assert order == ["batch:a", "batch:b", f"one:d:{traces['d']}", f"one:c:{traces['c']}"]
    assert await scratch.fetchval("SELECT count(DISTINCT note) FROM effects") == 1
    assert await scratch.fetchval("SELECT count(*) FROM inbox") == 4


async def test_a_failing_record_in_a_batch_is_isolated_and_nothing_doubles(
    scratch: asyncpg.Pool,
) -> None:
    async def picky(conn, event, data) -> None:  # type: ignore[no-untyped-def]
        if data.case_id == "bad":
            raise ValueError("bug")
        await conn.execute("INSERT INTO effects (event_id) VALUES ($1)", event.id)

    sub = Subscription("cases", {"case.closed": picky}, consumer="t.cases")
    processor = Processor(scratch, sub, max_attempts=3)
    recs = [_record(_closed(c), offset=n) for n, c in enumerate(["a", "b", "bad", "c"])]
    for _ in range(2):  # each failure redelivers the batch from its earliest record
        with pytest.raises(ValueError):
            await processor.process_batch(recs)
    await processor.process_batch(recs)
    assert await scratch.fetchval("SELECT count(*) FROM effects") == 3
    assert await scratch.fetchval("SELECT count(*) FROM inbox") == 3
    [letter] = await _dead_letters(scratch)
    assert "handler failed 3 times" in dict(letter["headers"])["x-dead-letter-error"]


async def test_events_a_record_causes_continue_its_trace(scratch: asyncpg.Pool) -> None:
    from oncoroute_shared.messaging.outbox import emit

    async def forward(conn, event, data) -> None:  # type: ignore[no-untyped-def]
        await emit(conn, "case.updated", source="t", case_id=data.case_id,
                   data={"case_id": data.case_id, "status": "ready"})

    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    sub = Subscription("cases", {"case.closed": forward}, consumer="t.cases")
    recs = [Record("cases", 0, n, b"k", _closed(f"c{n}"),
                   {"traceparent": f"00-{trace}-00f067aa0ba902b7-01"}) for n in range(2)]
    await Processor(scratch, sub, max_attempts=3).process_batch(recs)
    rows = await scratch.fetch("SELECT headers FROM outbox WHERE topic = 'cases'")
    assert len(rows) == 2
    for row in rows:
        assert dict(row["headers"])["traceparent"].split("-")[1] == trace


class _NoDatabase:
    """A pool that refuses to be used: events the subscription ignores need no transaction."""

    def acquire(self) -> None:
        raise AssertionError("a transaction for events nobody handles")


async def test_events_nobody_here_handles_open_no_transaction(scratch: asyncpg.Pool) -> None:
    updated = [_record(encode(new_event("case.updated", source="t", subject=f"c{n}",
                                        data={"case_id": f"c{n}", "status": "ready"})), n)
               for n in range(3)]
    idle = Processor(_NoDatabase(), Subscription("cases", {"case.closed": _effect},  # type: ignore[arg-type]
                                                 consumer="t.cases"), max_attempts=3)
    await idle.process_batch(updated)
    await idle.process_batch(updated[:1])
    await idle.process(updated[0])
    mixed = Processor(scratch, Subscription("cases", {"case.closed": _effect},
                                            consumer="t.cases"), max_attempts=3)
    await mixed.process_batch([*updated, _record(_closed("c9"), 9)])
    assert [r["note"] for r in await scratch.fetch("SELECT note FROM effects")] == ["withdrawn"]
    assert await scratch.fetchval("SELECT count(*) FROM inbox") == 1


async def test_a_fetch_s_topics_are_processed_side_by_side_and_failures_redeliver_it(
    scratch: asyncpg.Pool,
) -> None:
    """A slow batch on one topic does not hold back another topic's batch of the same fetch;
    a failure on one topic is raised after the other has committed, and the redelivered fetch
    runs nothing twice."""
    closing_started = asyncio.Event()

    async def updated_waits_for_closing(conn, event, data) -> None:  # type: ignore[no-untyped-def]
        await asyncio.wait_for(closing_started.wait(), timeout=30)  # deadlocks if one by one
        await conn.execute("INSERT INTO effects (event_id, note) VALUES ($1, 'updated')",
                           event.id)

    async def closing(conn, event, data) -> None:  # type: ignore[no-untyped-def]
        closing_started.set()
        await conn.execute("INSERT INTO effects (event_id, note) VALUES ($1, $2)", event.id,
                           data.reason)

    processors = {
        "cases": Processor(scratch, Subscription("cases", {"case.updated":
                                                           updated_waits_for_closing},
                                                 consumer="t.cases"), max_attempts=3),
        "closures": Processor(scratch, Subscription("closures", {"case.closed": closing},
                                                    consumer="t.closures"), max_attempts=3),
    }
    updated = Record("cases", 0, 1, b"c1", encode(new_event(
        "case.updated", source="t", subject="c1", data={"case_id": "c1", "status": "ready"})))
    closed = Record("closures", 0, 1, b"c1", _closed("c1"))
    await process_topics({"cases": [updated], "closures": [closed]}, processors.__getitem__)
    assert sorted(r["note"] for r in await scratch.fetch("SELECT note FROM effects")) == [
        "updated", "withdrawn"]

    async def database_away(conn, event, data) -> None:  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("database away")

    failing = Processor(scratch, Subscription("cases", {"case.updated": database_away},
                                              consumer="t.cases2"), max_attempts=3,
                        transient_backoff_s=0)
    processors["cases"] = failing
    closed_again = Record("closures", 0, 2, b"c2", _closed("c2"))
    with pytest.raises(ConnectionRefusedError):
        await process_topics({"cases": [updated], "closures": [closed_again]},
                             processors.__getitem__)
    processors["cases"] = Processor(scratch, Subscription(
        "cases", {"case.updated": updated_waits_for_closing}, consumer="t.cases2"),
        max_attempts=3)
    await process_topics({"cases": [updated], "closures": [closed_again]},
                         processors.__getitem__)  # the redelivered fetch
    assert sorted(r["note"] for r in await scratch.fetch("SELECT note FROM effects")) == [
        "updated", "updated", "withdrawn", "withdrawn"]  # c2's closing once, not twice


async def test_background_topics_are_processed_one_after_another(scratch: asyncpg.Pool) -> None:
    """Large background batches run one topic at a time: the second topic's batch starts only
    after the first has committed."""
    seen_by_closures: list[int] = []

    async def update(conn, event, data) -> None:  # type: ignore[no-untyped-def]
        await conn.execute("INSERT INTO effects (event_id) VALUES ($1)", event.id)

    async def close(conn, event, data) -> None:  # type: ignore[no-untyped-def]
        seen_by_closures.append(await conn.fetchval("SELECT count(*) FROM effects"))
        await update(conn, event, data)

    processors = {
        "cases": Processor(scratch, Subscription("cases", {"case.updated": update},
                                                 consumer="t.cases"), max_attempts=3),
        "closures": Processor(scratch, Subscription("closures", {"case.closed": close},
                                                    consumer="t.closures"), max_attempts=3),
    }
    updates = [Record("cases", 0, n, b"c", encode(new_event(
        "case.updated", source="t", subject=f"c{n}",
        data={"case_id": f"c{n}", "status": "ready"}))) for n in range(3)]
    closures = [Record("closures", 0, n, b"c", _closed(f"c{n}")) for n in range(3)]
    await process_topics({"cases": updates, "closures": closures}, processors.__getitem__,
                         side_by_side=False)
    # the closures' transaction saw all three updates committed before it began
    assert seen_by_closures == [3, 4, 5]
