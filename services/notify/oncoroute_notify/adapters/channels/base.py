"""The one interface every outbound channel implements, and its two kinds of failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class RetryableError(Exception):
    """The channel may accept later: SMTP 4xx, connection errors, timeouts, HTTP 5xx and 429."""


class PermanentDeliveryError(Exception):
    """The channel will never accept this message: SMTP 5xx, HTTP 4xx other than 429."""


@dataclass(frozen=True)
class Outgoing:
    """A rendered message. `delivery_id` is its idempotency key on every channel."""

    delivery_id: str
    recipient: str
    text: str = ""
    subject: str | None = None
    html: str | None = None
    payload: dict[str, Any] | None = None  # webhooks: the JSON body
    source: str | None = None  # webhooks: the system whose secret signs it


class Channel(Protocol):
    name: str
    timeout_s: float

    async def send(self, message: Outgoing) -> None:
        """Return once the channel accepted the message; raise one of the errors above."""
        ...

    async def close(self) -> None: ...


def http_failure(status: int, what: str) -> Exception:
    """HTTP 5xx and 429 are worth retrying; any other 4xx (or a redirect) never will be."""
    if status == 429 or status >= 500:
        return RetryableError(f"{what} answered {status}")
    return PermanentDeliveryError(f"{what} answered {status}")
