"""One trace follows a case across services: through Kafka headers and through the outbox."""

from __future__ import annotations

import pytest

from oncoroute_shared.envelope import decode

from ..support.kafka import read_all
from ..support.submissions import submission
from ..support.waiting import eventually
from .conftest import System

pytestmark = pytest.mark.e2e


def _trace_id(record) -> str | None:  # type: ignore[no-untyped-def]
    headers = {k: v.decode() for k, v in record.headers or []}
    parent = headers.get("traceparent")
    return parent.split("-")[1] if parent else None


async def test_case_events_share_one_trace_across_services(system: System) -> None:
    async with system.intake_client() as client:
        r = await client.post("/v1/cases", json=submission(source="test-hospital"))
        assert r.status_code == 201, r.text
        case_id = r.json()["case_id"]
    bootstrap = system.infra.kafka or ""

    async def find(topic: str, suffix: str):  # type: ignore[no-untyped-def]
        for rec in await read_all(bootstrap, topic):
            event = decode(rec.value)
            if event.subject == case_id and event.type.endswith(suffix):
                return rec
        return None

    opened = await eventually(lambda: find("cases", "case.opened.v1"), timeout=60,
                              what="case.opened on the topic")
    offered = await eventually(lambda: find("assignments", "assignment.offered.v1"),
                               timeout=60, what="assignment.offered on the topic")
    started = await eventually(lambda: find("sla-events", "sla.started.v1"),
                               timeout=60, what="sla.started on the topic")
    trace = _trace_id(opened)
    assert trace is not None
    assert _trace_id(offered) == trace, "matcher's event left the trace"
    assert _trace_id(started) == trace, "sla's event left the trace"
