"""How a batch subscriber waits for records: in the poll itself, never after it.

FastStream's batch subscriber (0.6) polls with `getmany(timeout_ms=batch_timeout_ms)` and,
when the poll comes back empty, sleeps `batch_timeout_ms` more before polling again. The poll
has already waited that long, so the sleep only delays whatever arrives during it: a record
that reaches the consumer's buffer then waits up to `batch_timeout_ms` more, at every hop of a
case (docs/KNOWN_ISSUES.md). `poll_without_sleep` replaces that step: the poll waits, and
returns as soon as records arrive; only a poll that comes back empty at once (a consumer
between assignments) waits out the rest of its timeout, so an idle consumer never spins.
"""

from __future__ import annotations

import asyncio
import time
from itertools import chain
from typing import Any


def poll_without_sleep(subscriber: Any) -> None:
    """Give `subscriber` (a FastStream Kafka batch subscriber) a `get_msg` that waits in
    the poll only."""
    timeout_ms: int = subscriber.batch_timeout_ms

    async def get_msg(consumer: Any) -> tuple[Any, ...]:
        started = time.monotonic()
        batches = await consumer.getmany(timeout_ms=timeout_ms,
                                         max_records=subscriber.max_records)
        if not batches:
            rest = timeout_ms / 1000 - (time.monotonic() - started)
            if rest > timeout_ms / 2000:  # came back at once: wait as the poll would have
                await asyncio.sleep(rest)
            return ()
        return tuple(chain(*batches.values()))

    subscriber.get_msg = get_msg
