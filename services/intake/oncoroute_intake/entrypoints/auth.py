"""`Authorization: Bearer <API key>` on every intake endpoint but health; keys are checked by
hash, remembered for a few seconds so a burst does not cost a query per request."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from oncoroute_shared.runtime import Runtime

from ..adapters import api_keys
from ..domain.access import Principal, key_hash
from .problems import ProblemError

bearer = HTTPBearer(auto_error=False, description="An API key from `oncoroute keys create`")
_MAX_KEY = 200


def _unauthorised(detail: str) -> ProblemError:
    return ProblemError(401, "unauthorised", "An API key is required", detail,
                        headers={"WWW-Authenticate": 'Bearer realm="oncoroute-intake"'})


def authenticator(runtime: Runtime) -> Callable[..., Awaitable[Principal]]:
    cache: dict[str, tuple[float, Principal]] = {}

    async def authenticate(
        creds: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> Principal:
        if creds is None:
            raise _unauthorised("send Authorization: Bearer <key>")
        key = creds.credentials
        if len(key) > _MAX_KEY or not key.isprintable():
            raise _unauthorised("unknown or revoked key")
        settings = runtime.settings
        now = time.monotonic()
        hit = cache.get(key)
        if hit and hit[0] > now:
            return hit[1]
        digest = key_hash(key)
        if any(hmac.compare_digest(digest, h) for h in settings.operator_hashes()):
            principal: Principal | None = Principal("env:" + digest[:8], "operator", None)
        else:
            async with runtime.db().acquire() as conn:
                principal = await api_keys.principal_for(conn, key)
        if principal is None:
            raise _unauthorised("unknown or revoked key")
        if settings.intake_key_cache_seconds > 0:
            if len(cache) > 10_000:
                cache.clear()
            cache[key] = (now + settings.intake_key_cache_seconds, principal)
        return principal

    return authenticate
