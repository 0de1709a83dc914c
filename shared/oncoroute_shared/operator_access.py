"""Operators' bearer tokens for the services whose HTTP APIs only operators read (sla,
notify): `Authorization: Bearer <token>`, checked against the SHA-256 digests listed in
`OPERATOR_TOKEN_HASHES` and/or the file `OPERATOR_TOKEN_HASHES_FILE` (one per line or
comma-separated; e.g. mounted from a secret store). Only digests are configured, so the
token itself is never stored, configured or logged. No digest configured: every request
is refused (closed by default). `oncoroute operator-token` issues one."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .runtime import Runtime

TOKEN_PREFIX = "orot_"
_MAX_TOKEN = 200
bearer = HTTPBearer(auto_error=False, scheme_name="OperatorToken",
                    description="An operator token from `oncoroute operator-token`")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="oncoroute"'}


def token_hash(token: str) -> str:
    """Tokens are 256 random bits, so one SHA-256 is enough (nothing to brute-force)."""
    return hashlib.sha256(token.encode("utf-8", errors="replace")).hexdigest()


def new_token() -> tuple[str, str]:
    """(token, its digest): give the token to the operator, configure the digest."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_hash(token)


def digests(listed: str, file: Path | None) -> frozenset[str]:
    text = listed + "," + (file.read_text() if file is not None else "")
    return frozenset(h.strip().lower() for h in text.replace("\n", ",").split(",") if h.strip())


def operator_only(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    """A FastAPI dependency refusing (401) any request without a configured operator token."""

    async def authenticate(
        creds: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> None:
        if creds is None:
            raise HTTPException(401, "send Authorization: Bearer <operator token>", CHALLENGE)
        token = creds.credentials
        known: frozenset[str] = runtime.settings.operator_token_digests()
        if len(token) <= _MAX_TOKEN and token.isprintable():
            digest = token_hash(token)
            if any(hmac.compare_digest(digest, h) for h in known):
                return
        raise HTTPException(401, "unknown operator token", CHALLENGE)

    return authenticate
