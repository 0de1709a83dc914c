"""Webhooks to a submission's callback_url, signed per Standard Webhooks with the submitting
system's own secret: HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable

import orjson

from ...settings import NotifySettings
from .base import Outgoing, PermanentDeliveryError
from .http_client import HttpPoster


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256>`; `secret` is `whsec_<base64 key>`."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class SignedWebhook:
    name = "webhook"

    def __init__(self, settings: NotifySettings,
                 clock: Callable[[], float] = time.time) -> None:
        self._secrets = dict(settings.webhook_secrets)
        self._http = HttpPoster(settings.webhook_timeout_s, "webhook receiver")
        self._clock = clock
        self.timeout_s = settings.webhook_timeout_s

    async def send(self, message: Outgoing) -> None:
        secret = self._secrets.get(message.source or "")
        if secret is None:
            raise PermanentDeliveryError("no webhook secret for the submitting system")
        body = orjson.dumps(message.payload)
        # Signed at each attempt: the timestamp is fresh, the id is the same (dedupe on it).
        timestamp = int(self._clock())
        headers = {"content-type": "application/json",
                   "webhook-id": message.delivery_id,
                   "webhook-timestamp": str(timestamp),
                   "webhook-signature": signature(secret, message.delivery_id, timestamp, body)}
        await self._http.post(message.recipient, content=body, headers=headers)

    async def close(self) -> None:
        await self._http.close()
