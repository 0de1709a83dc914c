"""Sends' outcomes recorded together (a group commit): the outcomes that arrive while one
statement is in flight go in the next, one statement for them all. A case's messages go out
at the same moment and their channels answer at about the same time, so they cost one round
trip between them rather than one each; under load the batches grow by themselves."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from oncoroute_shared.messaging.outbox import OutboxRow

from ..adapters import deliveries
from ..domain.schedule import Decision


@dataclass
class _Waiting:
    row: dict[str, Any]
    decision: Decision
    now: datetime
    event: OutboxRow | None
    done: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


class Outcomes:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, row: dict[str, Any], decision: Decision, now: datetime,
                     event: OutboxRow | None) -> bool:
        """`deliveries.finish` with whatever else is waiting: True once recorded, False if
        the lease was lost; raises what the statement raised."""
        waiting = _Waiting(row, decision, now, event)
        self._waiting.append(waiting)
        if self._writer is None:  # runs after every send answered in this same moment
            self._writer = asyncio.create_task(self._write())
        return await waiting.done

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    async with self.pool.acquire() as conn:
                        recorded = await deliveries.finish_many(
                            conn, [(w.row, w.decision, w.now, w.event) for w in batch])
                except asyncio.CancelledError:
                    for w in batch:
                        w.done.cancel()
                    raise
                except Exception as exc:  # each send says so; its lease runs out, it goes again
                    for w in batch:
                        if not w.done.done():
                            w.done.set_exception(exc)
                    continue
                for w in batch:
                    if not w.done.done():
                        w.done.set_result(w.row["delivery_id"] in recorded)
        finally:
            self._writer = None
            for w in self._waiting:  # cancelled with outcomes still waiting
                w.done.cancel()
            self._waiting = []
