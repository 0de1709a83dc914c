"""Processed event ids are forgotten once no copy of the event can come back, and only then:
a redelivery inside the retention is still recognised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from pydantic import ValidationError

from oncoroute_shared.envelope import encode, new_event
from oncoroute_shared.messaging import inbox_retention
from oncoroute_shared.messaging.consumer import Processor, Record, Subscription
from oncoroute_shared.settings import ServiceSettings

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


async def _processed(pool: asyncpg.Pool, event_id: str, days_ago: float) -> None:
    await pool.execute(
        "INSERT INTO inbox (consumer, event_id, topic, partition, \"offset\", processed_at)"
        " VALUES ('t.cases', $1, 'cases', 0, 0, $2)", event_id, NOW - timedelta(days=days_ago))


async def test_ids_older_than_the_retention_go_in_batches_and_newer_ones_stay(
    scratch: asyncpg.Pool,
) -> None:
    for n in range(7):
        await _processed(scratch, f"old-{n}", 15 + n)
    for n in range(3):
        await _processed(scratch, f"kept-{n}", 13.9 - n)
    removed = await inbox_retention.prune(scratch, timedelta(days=14), NOW, batch=3)
    assert removed == 7
    kept = {r["event_id"] for r in await scratch.fetch("SELECT event_id FROM inbox")}
    assert kept == {"kept-0", "kept-1", "kept-2"}
    assert await inbox_retention.prune(scratch, timedelta(days=14), NOW, batch=3) == 0


async def test_a_redelivery_inside_the_retention_is_still_recognised(
    scratch: asyncpg.Pool,
) -> None:
    async def effect(conn, event, data) -> None:  # type: ignore[no-untyped-def]
        await conn.execute("INSERT INTO effects (event_id) VALUES ($1)", event.id)

    processor = Processor(scratch, Subscription("cases", {"case.closed": effect},
                                                consumer="t.cases"), max_attempts=3)
    record = Record("cases", 0, 5, b"c1", encode(new_event(
        "case.closed", source="t", subject="c1", data={"case_id": "c1", "reason": "withdrawn"})))
    await processor.process(record)
    await inbox_retention.prune(scratch, timedelta(days=14), datetime.now(UTC))
    await processor.process(record)  # delivered again after pruning: still once
    assert await scratch.fetchval("SELECT count(*) FROM effects") == 1


def test_the_retention_cannot_be_shorter_than_the_topics() -> None:
    with pytest.raises(ValidationError, match="inbox_retention_days"):
        ServiceSettings(inbox_retention_days=7)
    assert ServiceSettings().inbox_retention_days == 14
