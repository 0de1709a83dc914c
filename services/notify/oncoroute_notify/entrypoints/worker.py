"""The delivery loop: sleeps until the next delivery is due or a new one is planned."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from oncoroute_shared.runtime import Runtime

from .. import handlers
from ..adapters import deliveries
from ..adapters.channels import email_channel
from ..adapters.templates import Renderer

log = logging.getLogger("oncoroute.notify.worker")


def delivery_loop(runtime: Runtime):  # type: ignore[no-untyped-def]
    async def run() -> None:
        wake = asyncio.Event()
        email = email_channel(runtime.settings)
        renderer = Renderer()
        pool = runtime.db()
        listener = await pool.acquire()

        def on_notify(*_: object) -> None:
            wake.set()

        await listener.add_listener("notify_deliveries", on_notify)
        try:
            while True:
                try:
                    await _drain(runtime, email, renderer)
                    async with pool.acquire() as conn:
                        due = await deliveries.next_due(conn)
                    timeout = 5.0 if due is None else max(
                        0.0, (due - datetime.now(UTC)).total_seconds())
                    try:
                        await asyncio.wait_for(wake.wait(), min(timeout, 5.0))
                    except TimeoutError:
                        pass
                    wake.clear()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("delivery loop retrying after %s", type(exc).__name__)
                    await asyncio.sleep(1.0)
        finally:
            await listener.remove_listener("notify_deliveries", on_notify)
            await pool.release(listener)

    run.__name__ = "delivery_loop"
    return run


async def _drain(runtime: Runtime, email, renderer) -> None:  # type: ignore[no-untyped-def]
    while True:
        async with runtime.db().acquire() as conn, conn.transaction():
            now = datetime.now(UTC)
            rows = await deliveries.claim_due(conn, now, 20)
            for row in rows:
                await handlers.deliver(conn, row, email, renderer, now)
        if len(rows) < 20:
            return
