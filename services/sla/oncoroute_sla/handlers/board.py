"""What the operator board needs from events besides the clocks: a case's source, who holds
each seat (and their capacity, when the matcher sends it), the seats nobody could take.

Each runs after sla's own handler for the same event, in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from oncoroute_shared.contracts.assignments import AssignmentOffered, CaseUnmatched
from oncoroute_shared.contracts.cases import CaseOpened
from oncoroute_shared.envelope import CloudEvent

from ..adapters import board


async def on_case_opened(conn: asyncpg.Connection, _event: CloudEvent,
                         case: CaseOpened) -> None:
    await board.record_source(conn, case.case_id, case.submission.source)


async def on_offered(conn: asyncpg.Connection, _event: CloudEvent,
                     offered: AssignmentOffered) -> None:
    await board.record_reviewer(conn, offered.assignment_id, offered.case_id, offered.seat,
                                offered.tumor_group, offered.reviewer.name,
                                offered.reviewer.max_active)


async def on_unmatched(conn: asyncpg.Connection, event: CloudEvent, seat: CaseUnmatched,
                       now: datetime) -> None:
    await board.record_unmatched(conn, seat.case_id, seat.seat, seat.tier, seat.tumor_group,
                                 seat.reasons, seat.summary, seat.waiting_since or event.time,
                                 now)
