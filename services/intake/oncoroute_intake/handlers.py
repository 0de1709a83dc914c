"""What happens when a submission or another service's event arrives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from oncoroute_shared.contracts.cases import CaseOpened, CaseRejected, Problem
from oncoroute_shared.contracts.submissions import Submission
from oncoroute_shared.envelope import CloudEvent
from oncoroute_shared.messaging.outbox import emit

from .adapters import cases
from .domain.classification import classify
from .domain.policy import ClassificationPolicy

SOURCE = "oncoroute/intake"


@dataclass(frozen=True)
class Opened:
    case_id: str
    created: bool


async def open_case(
    conn: asyncpg.Connection, sub: Submission, policy: ClassificationPolicy,
    now: datetime | None = None,
) -> Opened:
    """Open the case once per (source, external_id), in the caller's transaction."""
    now = now or datetime.now(UTC)
    classification = classify(sub, policy)
    case_id = str(uuid.uuid4())
    status = "ready"
    if not await cases.insert_case(conn, case_id, sub, classification, status, now):
        existing = await cases.case_id_for(conn, sub.source, sub.external_id)
        assert existing is not None
        return Opened(existing, created=False)
    event = await emit(
        conn, "case.opened", source=SOURCE, case_id=case_id,
        data=CaseOpened(case_id=case_id, opened_at=now, status=status,
                        classification=classification, submission=sub),
    )
    await cases.add_to_timeline(conn, event)
    return Opened(case_id, created=True)


async def reject_submission(
    conn: asyncpg.Connection, event: CloudEvent, problems: list[dict[str, str]]
) -> None:
    """A submission that parsed as a CloudEvent but failed validation: answer on `cases`."""
    data = event.data if isinstance(event.data, dict) else {}
    source = data.get("source") if isinstance(data.get("source"), str) else None
    external_id = data.get("external_id") if isinstance(data.get("external_id"), str) else None
    await emit(
        conn, "case.rejected", source=SOURCE,
        case_id=f"rejected:{source or '-'}:{external_id or event.id}"[:200],
        data=CaseRejected(source=source, external_id=external_id, submission_event_id=event.id,
                          errors=[Problem(**p) for p in problems]),
    )


async def record_on_timeline(conn: asyncpg.Connection, event: CloudEvent, _data: object) -> None:
    if event.subject:
        await cases.add_to_timeline(conn, event)
