"""Signed, expiring accept/decline links for specialists: notify signs, the matcher verifies.

A token is `v1.<claims>.<signature>`: `claims` is base64url (no padding) of compact JSON
`{"a": assignment_id, "r": reviewer_id, "act": "accept"|"decline", "exp": unix seconds}` and
`signature` is base64url (no padding) of HMAC-SHA256(LINK_SIGNING_SECRET, "v1." + claims).
Links look like `{MATCHER_PUBLIC_URL}/v1/assignments/{assignment_id}/{action}?token=<token>`.
Pure functions: the caller passes `now`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Action = Literal["accept", "decline"]
ACTIONS: tuple[Action, ...] = ("accept", "decline")
VERSION = "v1"
# Used when LINK_SIGNING_SECRET is unset, so `oncoroute up` works out of the box; services log
# a warning at start. Never run production without a real secret.
DEVELOPMENT_SECRET = "oncoroute-development-link-secret"


class InvalidLink(ValueError):
    """The token is malformed, forged, expired or for another assignment or action."""


@dataclass(frozen=True)
class LinkClaims:
    assignment_id: str
    reviewer_id: str
    action: Action
    expires_at: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, signed: str) -> bytes:
    return hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()


def sign(secret: str, claims: LinkClaims) -> str:
    body = {"a": claims.assignment_id, "r": claims.reviewer_id, "act": claims.action,
            "exp": int(claims.expires_at.timestamp())}
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{VERSION}.{payload}.{_b64(_mac(secret, f'{VERSION}.{payload}'))}"


def link(base_url: str, secret: str, claims: LinkClaims) -> str:
    return (f"{base_url.rstrip('/')}/v1/assignments/{claims.assignment_id}/{claims.action}"
            f"?token={sign(secret, claims)}")


def verify(secrets: str | Sequence[str], token: str, *, now: datetime,
           action: Action | None = None, assignment_id: str | None = None) -> LinkClaims:
    """Return the claims of a valid token or raise InvalidLink naming the problem.

    `secrets` may list the current and the previous secret while rotating."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        raise InvalidLink("malformed token")
    signed = f"{parts[0]}.{parts[1]}"
    try:
        given = _unb64(parts[2])
    except (binascii.Error, ValueError):
        raise InvalidLink("malformed token") from None
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    if not any(hmac.compare_digest(_mac(key, signed), given) for key in keys):
        raise InvalidLink("bad signature")
    try:
        body = json.loads(_unb64(parts[1]))
        claims = LinkClaims(str(body["a"]), str(body["r"]), body["act"],
                            datetime.fromtimestamp(int(body["exp"]), UTC))
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidLink("malformed token") from None
    if claims.action not in ACTIONS:
        raise InvalidLink("unknown action")
    if now >= claims.expires_at:
        raise InvalidLink("expired")
    if action is not None and claims.action != action:
        raise InvalidLink("token is for another action")
    if assignment_id is not None and claims.assignment_id != assignment_id:
        raise InvalidLink("token is for another assignment")
    return claims
