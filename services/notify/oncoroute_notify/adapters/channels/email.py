"""Email through SMTP (aiosmtplib), with a plain-text and an HTML part."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from ...settings import NotifySettings
from .base import Outgoing, PermanentDeliveryError, RetryableError


class SmtpEmail:
    name = "email"

    def __init__(self, settings: NotifySettings) -> None:
        self._s = settings
        self.timeout_s = settings.smtp_timeout_s

    async def send(self, message: Outgoing) -> None:
        msg = EmailMessage()
        msg["From"] = self._s.smtp_from
        msg["To"] = message.recipient
        msg["Subject"] = message.subject or ""
        # The same id on every retry lets a receiving system drop a resend.
        msg["Message-ID"] = f"<{message.delivery_id}@oncoroute>"
        msg["X-OncoRoute-Delivery"] = message.delivery_id
        msg.set_content(message.text)
        if message.html:
            msg.add_alternative(message.html, subtype="html")
        try:
            await aiosmtplib.send(
                msg, hostname=self._s.smtp_host, port=self._s.smtp_port,
                username=self._s.smtp_username, password=self._s.smtp_password,
                start_tls=self._s.smtp_starttls, timeout=self._s.smtp_timeout_s,
            )
        except aiosmtplib.SMTPResponseException as exc:
            raise _by_code(exc.code) from None
        except aiosmtplib.SMTPRecipientsRefused as exc:  # our one recipient, refused
            raise _by_code(exc.recipients[0].code if exc.recipients else 550) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise RetryableError(f"smtp {type(exc).__name__}") from None

    async def close(self) -> None:
        return None


def _by_code(code: int) -> Exception:
    """SMTP 4xx is transient (greylisting, mailbox busy); 5xx is final."""
    if 400 <= code < 500:
        return RetryableError(f"smtp {code}")
    return PermanentDeliveryError(f"smtp {code}")
