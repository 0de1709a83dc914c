"""1,000 hostile messages to every topic the services consume, mixed with valid traffic:
no consumer crashes or stalls, every bad message is answered (`case.rejected`) or
dead-lettered by every consumer that should see it, and every valid message is processed."""

from __future__ import annotations

import asyncio
import collections
import os
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from oncoroute_shared.cli.main import load_spec
from oncoroute_shared.contracts.registry import short_type
from oncoroute_shared.embedded.stack import SERVICES
from oncoroute_shared.envelope import EnvelopeError, decode, encode, new_event
from oncoroute_shared.runtime import Runtime

from ..e2e.conftest import System, isolated_system
from ..support.hostile import draw_hostile
from ..support.kafka import read_all
from ..support.submissions import submission
from ..support.waiting import eventually

pytestmark = pytest.mark.e2e
HOSTILE = int(os.environ.get("ONCOROUTE_FUZZ_MESSAGES", "1000"))
SEED = int(os.environ.get("ONCOROUTE_FUZZ_SEED", "0"))  # set it to replay another draw
VALID = 100


def consumers() -> dict[str, list[tuple[str, set[str], bool]]]:
    """topic -> [(consumer, handled short types, answers invalid data)] from the services."""
    found: dict[str, list[tuple[str, set[str], bool]]] = collections.defaultdict(list)
    for name in SERVICES:
        for sub in load_spec(name).build(Runtime(name)).subscriptions:
            found[str(sub.topic)].append((f"{name}.{sub.topic}", set(sub.handlers),
                                          sub.on_invalid is not None))
    return dict(found)


@pytest.fixture(scope="module")
def fuzz_system(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[System]:
    with isolated_system(tmp_path_factory.mktemp("fuzz"), artifacts / "logs-fuzz") as system:
        yield system


async def test_hostile_messages_are_answered_and_valid_ones_processed(
    fuzz_system: System,
) -> None:
    topics = consumers()
    bootstrap = fuzz_system.infra.kafka or ""
    hostile = draw_hostile(HOSTILE, SEED)
    names = sorted(topics)
    valid = [submission(source="fuzz-valid", external_id=f"v-{n}") for n in range(VALID)]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all",
                                max_request_size=2_000_000)
    await producer.start()
    sent: list[tuple[str, bytes, object]] = []  # (topic, raw, future)
    try:
        for n, (_, raw) in enumerate(hostile):
            topic = names[n % len(names)]
            sent.append((topic, raw, await producer.send(topic, raw, key=b"fuzz")))
            if n % (HOSTILE // VALID) == 0 and valid:
                doc = valid.pop()
                ev = new_event("case.submitted", source="fuzz", subject=doc["external_id"],
                               data=doc)
                await producer.send("case-submissions", encode(ev), key=b"fuzz")
        metas = await asyncio.gather(*(f for _, _, f in sent))  # type: ignore[misc]
    finally:
        await producer.stop()

    expected: set[tuple[str, str, int, int]] = set()  # (consumer, topic, partition, offset)
    rejected_ids: set[str] = set()
    by_kind: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for (kind, _), (topic, raw, _), meta in zip(hostile, sent, metas, strict=True):
        by_kind[kind]["sent"] += 1
        try:
            event = decode(raw)
            known = short_type(event.type)
        except EnvelopeError:
            event, known = None, None
        for consumer, handled, answers_invalid in topics[topic]:
            if event is not None and known is not None and known not in handled:
                by_kind[kind]["ignored"] += 1
                continue  # a valid envelope of a type this consumer does not act on
            if answers_invalid and event is not None and known in handled:
                rejected_ids.add(event.id)
                by_kind[kind]["case.rejected"] += 1
                continue
            expected.add((consumer, topic, meta.partition, meta.offset))
            by_kind[kind]["dead letters"] += 1

    async def dead_letters() -> collections.Counter[tuple[str, str, int, int]] | None:
        counts: collections.Counter[tuple[str, str, int, int]] = collections.Counter()
        for rec in await read_all(bootstrap, "dead-letters"):
            h = {k: v.decode() for k, v in rec.headers}
            counts[(h["x-dead-letter-consumer"], h["x-dead-letter-topic"],
                    int(h["x-dead-letter-partition"]), int(h["x-dead-letter-offset"]))] += 1
        missing = expected - set(counts)
        if not missing:
            return counts
        by_consumer = collections.Counter(consumer for consumer, *_ in missing)
        seen = collections.Counter(consumer for consumer, *_ in counts)
        raise AssertionError(f"{len(missing)} of {len(expected)} dead letters missing, by "
                             f"consumer {dict(by_consumer)}; lowest missing offsets "
                             f"{sorted(missing, key=lambda k: k[3])[:5]}; present by "
                             f"consumer {dict(seen)}")

    letters = await eventually(dead_letters, timeout=240, interval=2,
                               what=f"{len(expected)} dead letters (draw seed {SEED})")
    assert set(letters) == expected, "a message was dead-lettered that should not have been"
    assert set(letters.values()) == {1}, "a message was dead-lettered twice"

    async def rejections() -> set[str] | None:
        got = set()
        for rec in await read_all(bootstrap, "cases"):
            if rec.headers and dict(rec.headers).get("content-type") is not None:
                event = decode(rec.value)  # ours: written by intake through its outbox
                if event.type.endswith("case.rejected.v1"):
                    got.add(event.data["submission_event_id"])
        return got if got >= rejected_ids else None

    assert await eventually(rejections, timeout=120, interval=2,
                            what="case.rejected answers") >= rejected_ids

    db = await asyncpg.connect(fuzz_system.infra.database_url)
    try:
        async def all_valid_assigned() -> bool:
            n = await db.fetchval(
                "SELECT count(DISTINCT a.case_id) FROM matcher.assignments a"
                " JOIN intake.cases c USING (case_id) WHERE c.source = 'fuzz-valid'")
            return int(n) >= VALID

        await eventually(all_valid_assigned, timeout=120, what="every valid case assigned")
    finally:
        await db.close()
    for svc in fuzz_system.services.values():
        assert svc.alive(), f"{svc.name} died under hostile input"
    print(f"\nfuzz (seed {SEED}): {len(hostile)} hostile messages on {len(names)} topics, "
          f"{len(expected)} dead letters, {len(rejected_ids)} rejections, {VALID} valid opened")
    # per (message, consumer): dead-lettered, answered, or ignored (a known type that
    # consumer does not handle, as for any event on a shared topic)
    print(f"{'kind':14s} {'sent':>6s} {'dead letters':>13s} {'case.rejected':>14s} "
          f"{'ignored':>8s}")
    for kind in sorted(by_kind):
        c = by_kind[kind]
        print(f"{kind:14s} {c['sent']:6d} {c['dead letters']:13d} {c['case.rejected']:14d} "
              f"{c['ignored']:8d}")
    print(f"{'(all)':14s} {len(hostile):6d} {len(expected):13d} {len(rejected_ids):14d} "
          f"{sum(c['ignored'] for c in by_kind.values()):8d}   every one once; {VALID} valid "
          "submissions processed; no consumer died")
