"""A real SMTP server in the test process (aiosmtpd) that records what it receives and can
refuse chosen recipients: 4xx a given number of times, or 5xx for ever."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller

from .stack import free_port


class Mailbox:
    """aiosmtpd handler: every accepted message, in arrival order."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refusals: list[tuple[str, str]] = []
        self._transient: Counter[str] = Counter()
        self._permanent: dict[str, str] = {}
        self._lock = threading.Lock()
        self.delay_s = 0.0  # a slower server (stretches a burst)

    def refuse(self, address: str, times: int, reply: str = "451 4.3.0 try again later") -> None:
        self._transient[address.lower()] = times
        self._transient_reply = reply

    def reject(self, address: str, reply: str = "550 5.1.1 no such mailbox") -> None:
        self._permanent[address.lower()] = reply

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        key = address.lower()
        with self._lock:
            if key in self._permanent:
                self.refusals.append((key, self._permanent[key]))
                return self._permanent[key]
            if self._transient[key] > 0:
                self._transient[key] -= 1
                self.refusals.append((key, self._transient_reply))
                return self._transient_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        message = message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"].lower() == address.lower()]

    def ids(self) -> Counter[str]:
        """Message-ID (the delivery id) -> how many times it arrived."""
        with self._lock:
            return Counter(m["Message-ID"] for m in self.messages)


class SmtpServer:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def env(self) -> dict[str, str]:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port),
                "SMTP_FROM": "Second Opinion Service <no-reply@oncoroute.test>",
                "SMTP_TIMEOUT_S": "5"}
