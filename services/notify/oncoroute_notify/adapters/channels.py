"""Outbound channels, each a small adapter behind one interface."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from ..settings import NotifySettings

log = logging.getLogger("oncoroute.notify.channels")


class RetryableError(Exception):
    """The channel may accept later (SMTP 4xx, connection errors, timeouts)."""


class PermanentDeliveryError(Exception):
    """The channel will never accept this message (SMTP 5xx)."""


class EmailChannel(Protocol):
    async def send(self, delivery_id: str, to: str, subject: str, body: str) -> None: ...


class SmtpEmail:
    def __init__(self, settings: NotifySettings) -> None:
        self._s = settings

    async def send(self, delivery_id: str, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"] = self._s.smtp_from
        msg["To"] = to
        msg["Subject"] = subject
        msg["Message-ID"] = f"<{delivery_id}@oncoroute>"  # lets receivers drop a resend
        msg.set_content(body)
        try:
            await aiosmtplib.send(
                msg, hostname=self._s.smtp_host, port=self._s.smtp_port,
                username=self._s.smtp_username, password=self._s.smtp_password,
                start_tls=self._s.smtp_starttls, timeout=self._s.smtp_timeout_s,
            )
        except aiosmtplib.SMTPResponseException as exc:
            if 400 <= exc.code < 500:
                raise RetryableError(f"smtp {exc.code}") from None
            raise PermanentDeliveryError(f"smtp {exc.code}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise RetryableError(type(exc).__name__) from None


class LogEmail:
    """Development channel: records that a message would go out (no body: it may be clinical)."""

    async def send(self, delivery_id: str, to: str, subject: str, body: str) -> None:
        log.info("log channel: email delivery %s (%d chars)", delivery_id, len(body))


def email_channel(settings: NotifySettings) -> EmailChannel:
    return SmtpEmail(settings) if settings.smtp_host else LogEmail()
