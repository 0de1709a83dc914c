"""The development channel, used for any channel that is not configured: it records that a
message would go out, by delivery id and size only (the text may be clinical)."""

from __future__ import annotations

import logging

from .base import Outgoing

log = logging.getLogger("oncoroute.notify.channels")


class LogChannel:
    timeout_s = 5.0

    def __init__(self, name: str) -> None:
        self.name = name

    async def send(self, message: Outgoing) -> None:
        log.info("log channel: %s delivery %s (%d chars)", self.name, message.delivery_id,
                 len(message.text) + len(message.html or "") + len(str(message.payload or "")))

    async def close(self) -> None:
        return None
