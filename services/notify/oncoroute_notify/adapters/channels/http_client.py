"""One httpx client per HTTP channel, created in the running loop, never following redirects."""

from __future__ import annotations

import httpx

from .base import RetryableError, http_failure


class HttpPoster:
    def __init__(self, timeout_s: float, what: str) -> None:
        self.timeout_s = timeout_s
        self._what = what
        self._client: httpx.AsyncClient | None = None

    async def post(self, url: str, *, content: bytes, headers: dict[str, str]) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False)
        try:
            response = await self._client.post(url, content=content, headers=headers)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise RetryableError(f"{self._what} {type(exc).__name__}") from None
        if not response.is_success:
            raise http_failure(response.status_code, self._what)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
