"""What happens when a submission, a record, a withdrawal or another service's event arrives:
load, decide (domain), store and emit in the caller's transaction."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from oncoroute_shared.contracts.cases import (
    CaseClosed,
    CaseOpened,
    CaseRejected,
    CaseUpdated,
    Problem,
)
from oncoroute_shared.contracts.submissions import Record, Submission
from oncoroute_shared.envelope import CloudEvent, new_event
from oncoroute_shared.messaging.consumer import Batched
from oncoroute_shared.messaging.outbox import emit, enqueue_rows, event_row
from oncoroute_shared.metrics import CASES_OPENED, CASES_REJECTED

from .adapters import cases
from .domain.access import Principal
from .domain.classification import classify
from .domain.policy import IntakePolicy
from .domain.records import completeness, status_for
from .domain.validation import check_submission

SOURCE = "oncoroute/intake"


@dataclass(frozen=True)
class Rules:
    """The policy and the ICD-10 code sets every decision is made with."""

    policy: IntakePolicy
    is_valid_code: Callable[[str], bool]


@dataclass(frozen=True)
class Opened:
    case_id: str
    created: bool
    status: str = ""
    missing_records: tuple[str, ...] = ()


class CaseNotFound(LookupError):
    """No such case, or not one the caller may see."""


class CaseClosedError(Exception):
    """The case is closed; it takes no more records."""


def _new_case(sub: Submission, rules: Rules) -> cases.NewCase:
    """A case for the submission: its classification, status and missing records."""
    classification = classify(sub, rules.policy.classification)
    check = completeness(sub.reasons, sub.first_opinion.proposed_treatments,
                         (r.kind for r in sub.records), rules.policy.records)
    return cases.NewCase(str(uuid.uuid4()), sub, classification,
                         status_for(check.complete, classification.fast_progressing),
                         check.missing_records)


def _opened(new: cases.NewCase, now: datetime) -> CloudEvent:
    CASES_OPENED.labels(new.classification.tier,
                        new.classification.tumor_group or "unclassified").inc()
    return new_event("case.opened", source=SOURCE, subject=new.case_id, data=CaseOpened(
        case_id=new.case_id, opened_at=now, status=new.status,
        classification=new.classification, missing_records=new.missing_records,
        submission=new.submission))


async def open_case(conn: asyncpg.Connection, sub: Submission, rules: Rules,
                    now: datetime | None = None) -> Opened:
    """Open the case once per (source, external_id), in the caller's transaction."""
    now = now or datetime.now(UTC)
    new = _new_case(sub, rules)
    if not await cases.insert_cases(conn, [new], now):
        existing = await cases.case_id_for(conn, sub.source, sub.external_id)
        assert existing is not None
        return Opened(existing, created=False)
    event = _opened(new, now)
    await enqueue_rows(conn, [event_row("case.opened", event)])
    await cases.add_to_timeline(conn, event)
    return Opened(new.case_id, created=True, status=new.status,
                  missing_records=tuple(new.missing_records))


async def open_submitted(conn: asyncpg.Connection, items: list[Batched], rules: Rules,
                         now: datetime | None = None) -> list[Batched]:
    """`on_submitted` for a batch's valid submissions, new cases in three statements for the
    batch; returns the rest for `on_submitted` (invalid ones, and every submission whose
    source and external id come twice in the batch). A case opened before stays as it is."""
    now = now or datetime.now(UTC)
    valid: list[tuple[Batched, Submission]] = []
    for b in items:
        sub, _problems = check_submission(b.event.data, rules.is_valid_code, parsed=b.data)
        if sub is not None:
            valid.append((b, sub))
    twice = Counter((sub.source, sub.external_id) for _, sub in valid)
    mine = [(b, sub) for b, sub in valid if twice[(sub.source, sub.external_id)] == 1]
    if mine:
        new = [(b, _new_case(sub, rules)) for b, sub in mine]
        created = await cases.insert_cases(conn, [n for _, n in new], now)
        events, rows = [], []
        for b, n in new:
            if n.case_id in created:
                with b.traced():
                    events.append(_opened(n, now))
                    rows.append(event_row("case.opened", events[-1]))
        await enqueue_rows(conn, rows)
        await cases.add_all_to_timeline(conn, events)
    taken = {id(b) for b, _ in mine}
    return [b for b in items if id(b) not in taken]


async def _visible_case(conn: asyncpg.Connection, case_id: str,
                        principal: Principal) -> dict[str, Any]:
    case = await cases.lock_case(conn, case_id)
    if case is None or not principal.may_read(case["source"]):
        raise CaseNotFound(case_id)
    return case


async def add_records(conn: asyncpg.Connection, case_id: str, new: list[Record],
                      principal: Principal, rules: Rules,
                      now: datetime | None = None) -> dict[str, Any]:
    """Add records (a repeat of one already held is ignored); `case.updated` when any is new."""
    now = now or datetime.now(UTC)
    case = await _visible_case(conn, case_id, principal)
    if case["status"] == "closed":
        raise CaseClosedError(case_id)
    sub = Submission.model_validate(case["submission"])
    held = {(r.kind, r.uri) for r in sub.records}
    added: list[Record] = []
    for record in new:
        if (record.kind, record.uri) not in held:
            held.add((record.kind, record.uri))
            added.append(record)
    records = [*sub.records, *added]
    check = completeness(sub.reasons, sub.first_opinion.proposed_treatments,
                         (r.kind for r in records), rules.policy.records)
    status = status_for(check.complete, case["fast_progressing"])
    result = {"case_id": case_id, "status": status, "missing_records": check.missing_records,
              "records_added": [r.kind for r in added]}
    if not added:
        return result
    await cases.save_records(conn, case_id, [r.model_dump(mode="json") for r in records],
                             status, check.missing_records, now)
    event = await emit(conn, "case.updated", source=SOURCE, case_id=case_id,
                       data=CaseUpdated.model_validate(result))
    await cases.add_to_timeline(conn, event)
    return result


async def withdraw(conn: asyncpg.Connection, case_id: str, principal: Principal,
                   now: datetime | None = None) -> dict[str, Any]:
    """Close the case as withdrawn, once; withdrawing a closed case changes nothing."""
    now = now or datetime.now(UTC)
    case = await _visible_case(conn, case_id, principal)
    if case["status"] == "closed":
        return {"case_id": case_id, "status": "closed", "reason": case["close_reason"]}
    await cases.close(conn, case_id, "withdrawn", now)
    event = await emit(conn, "case.closed", source=SOURCE, case_id=case_id,
                       data=CaseClosed(case_id=case_id, reason="withdrawn"))
    await cases.add_to_timeline(conn, event)
    return {"case_id": case_id, "status": "closed", "reason": "withdrawn"}


async def on_submitted(conn: asyncpg.Connection, event: CloudEvent, rules: Rules,
                       parsed: Submission | None = None) -> None:
    """A `case.submitted` from Kafka: open it, or answer `case.rejected` listing every problem.
    `parsed`: its data, already validated as a Submission."""
    sub, problems = check_submission(event.data, rules.is_valid_code, parsed=parsed)
    if sub is None:
        await reject(conn, event, problems)
        return
    await open_case(conn, sub, rules)


async def reject(conn: asyncpg.Connection, event: CloudEvent, problems: list[Problem]) -> None:
    """A submission that parsed as a CloudEvent but failed validation: answer on `cases`."""
    CASES_REJECTED.labels("kafka").inc()
    data = event.data if isinstance(event.data, dict) else {}
    source = data.get("source") if isinstance(data.get("source"), str) else None
    external_id = data.get("external_id") if isinstance(data.get("external_id"), str) else None
    source, external_id = (_printable(source, 100), _printable(external_id, 200))
    await emit(
        conn, "case.rejected", source=SOURCE,
        case_id=f"rejected:{source or '-'}:{external_id or event.id}"[:200],
        data=CaseRejected(source=source, external_id=external_id, submission_event_id=event.id,
                          errors=problems),
    )


def _printable(value: str | None, limit: int) -> str | None:
    if value is None or "\x00" in value or not value.isprintable():
        return None
    return value[:limit]


def _recordable(event: CloudEvent) -> bool:
    return bool(event.subject) and "\x00" not in (event.subject or "")


async def record_on_timeline(conn: asyncpg.Connection, event: CloudEvent, _data: object) -> None:
    if _recordable(event):
        await cases.add_to_timeline(conn, event)


async def record_all_on_timeline(conn: asyncpg.Connection,
                                 events: list[Batched]) -> list[Batched]:
    """`record_on_timeline` for a batch's new events, in one round trip; leaves none."""
    await cases.add_all_to_timeline(conn, [b.event for b in events if _recordable(b.event)])
    return []
