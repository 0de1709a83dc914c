"""What happens to a case's clock when events arrive."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from oncoroute_shared.contracts.cases import CaseOpened
from oncoroute_shared.contracts.sla import SlaStarted
from oncoroute_shared.envelope import CloudEvent
from oncoroute_shared.messaging.outbox import emit

from .adapters import clocks
from .domain.clock import start
from .domain.policy import SlaPolicy

SOURCE = "oncoroute/sla"


async def on_case_opened(conn: asyncpg.Connection, _event: CloudEvent, case: CaseOpened,
                         policy: SlaPolicy, time_scale: float,
                         now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    deadline = start(policy, case.classification.tier, now, time_scale)
    if await clocks.create_running(conn, case.case_id, case.classification.tumor_group,
                                   case.opened_at, deadline):
        await emit(conn, "sla.started", source=SOURCE, case_id=case.case_id,
                   data=SlaStarted(case_id=case.case_id, tier=deadline.tier,
                                   started_at=deadline.started_at, deadline=deadline.deadline,
                                   turnaround_seconds=deadline.turnaround.total_seconds()))
