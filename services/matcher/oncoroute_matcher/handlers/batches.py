"""The cases topic a batch at a time: the cases opened that are the only event of their case
in the batch are stored with their seats in three statements for the whole batch, instead
of three for each case. Every other event goes back to its own handler, in order, after
these: the same cases and seats either way (tests/integration/test_matcher_batches.py).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import asyncpg
from opentelemetry import propagate

from oncoroute_shared.contracts.cases import CaseOpened
from oncoroute_shared.messaging.consumer import Batched

from ..domain.panel import MatchingConfig
from .cases import open_cases


async def on_case_events(conn: asyncpg.Connection, items: list[Batched], cfg: MatchingConfig,
                         now: datetime) -> list[Batched]:
    per_case = Counter(b.data.case_id for b in items)
    opened = [b for b in items
              if isinstance(b.data, CaseOpened) and per_case[b.data.case_id] == 1]
    if opened:
        await open_cases(conn, [(b.data, _trace(b)) for b in opened], cfg, now)
    taken = {id(b) for b in opened}
    return [b for b in items if id(b) not in taken]


def _trace(item: Batched) -> dict[str, str]:
    trace: dict[str, str] = {}
    with item.traced():
        propagate.inject(trace)
    return trace
