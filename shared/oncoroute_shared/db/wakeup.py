"""Wake a loop early on PostgreSQL NOTIFY, and survive the database going away.

The LISTEN connection is its own (not a pool's): when the database restarts it is simply
opened again on the next wait, and until then waits are short, so loops poll instead of
sleeping on a dead channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

log = logging.getLogger("oncoroute.wakeup")
RECONNECT_POLL_S = 1.0


class Wakeup:
    def __init__(self, dsn: str | None, channel: str,
                 wanted: Callable[[str], bool] | None = None) -> None:
        self._dsn = dsn
        self._channel = channel
        self._wanted = wanted or (lambda _payload: True)
        self._event = asyncio.Event()
        self._conn: asyncpg.Connection | None = None

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def clear(self) -> None:
        self._event.clear()

    async def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` s for a wanted NOTIFY (or `set()`); True when woken early."""
        if not await self._listening():
            timeout = min(timeout, RECONNECT_POLL_S)
        try:
            # not `wait_for`: on Python 3.11 it can swallow a cancellation that arrives as the
            # event is set (CPython gh-86296), and the cancelled loop then waits on for an hour
            async with asyncio.timeout(max(timeout, 0.0)):
                await self._event.wait()
            return True
        except TimeoutError:
            return False
        finally:
            self._event.clear()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)

    async def _listening(self) -> bool:
        if self._dsn is None:  # no database channel: woken by `set()` and timeouts only
            return True
        if self._conn is not None and not self._conn.is_closed():
            return True
        try:
            conn = await asyncpg.connect(self._dsn, timeout=5)
            await conn.add_listener(self._channel, self._on_notify)
            conn.add_termination_listener(lambda _c: self._event.set())
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("cannot listen on %s yet: %s", self._channel, type(exc).__name__)
            return False
        self._conn = conn
        self._event.set()  # a notification may have been missed while we were away
        return True

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if self._wanted(payload):
            self._event.set()
