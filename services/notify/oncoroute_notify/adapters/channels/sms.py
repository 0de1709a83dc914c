"""SMS through a generic HTTP gateway: a JSON POST of recipient and text, bearer token."""

from __future__ import annotations

import orjson

from ...settings import NotifySettings
from .base import Outgoing
from .http_client import HttpPoster


class HttpSms:
    name = "sms"

    def __init__(self, settings: NotifySettings) -> None:
        assert settings.sms_gateway_url
        self._url = settings.sms_gateway_url
        self._token = settings.sms_gateway_token
        self._http = HttpPoster(settings.sms_timeout_s, "sms gateway")
        self.timeout_s = settings.sms_timeout_s

    async def send(self, message: Outgoing) -> None:
        headers = {"content-type": "application/json",
                   "idempotency-key": message.delivery_id}
        if self._token:
            headers["authorization"] = f"Bearer {self._token}"
        body = {"to": message.recipient, "text": message.text, "reference": message.delivery_id}
        await self._http.post(self._url, content=orjson.dumps(body), headers=headers)

    async def close(self) -> None:
        await self._http.close()
