"""Events fired in batches are written exactly as `emit` writes them, one at a time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oncoroute_shared.contracts.sla import SlaStep
from oncoroute_shared.envelope import decode, encode, new_event
from oncoroute_shared.messaging.outbox import envelope_bytes

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("at", [datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC),
                                datetime(2026, 3, 1, 9, 30, 15, tzinfo=UTC)])
def test_batched_events_are_byte_for_byte_the_single_ones(at: datetime) -> None:
    step = SlaStep(case_id="case-1", tier="standard", step="escalation:1", level="1",
                   audience=["reviewers", "tumor_group_lead"], deadline=at, due_at=at,
                   fired_at=at, lateness_seconds=0.25, fraction=0.75, repeat=0)
    batched = envelope_bytes("sla.escalated", source="oncoroute/sla", case_id="case-1",
                             data=step, event_id="ev-1", time=at)
    single = encode(new_event("sla.escalated", source="oncoroute/sla", subject="case-1",
                              data=step, time=at, event_id="ev-1"))
    assert batched == single
    assert SlaStep.model_validate(decode(batched).data) == step
