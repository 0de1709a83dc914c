"""Who is calling: `Authorization: Bearer <token>`, an operator's or a specialist's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request

from oncoroute_shared.runtime import Runtime

from ..adapters.tokens import Principal, principal

CHALLENGE = {"WWW-Authenticate": "Bearer"}


def authenticator(runtime: Runtime) -> Callable[[Request], Awaitable[Principal]]:
    async def authenticate(request: Request) -> Principal:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(401, "send Authorization: Bearer <token>", CHALLENGE)
        async with runtime.db().acquire() as conn:
            who = await principal(conn, token.strip())
        if who is None:
            raise HTTPException(401, "unknown or revoked token", CHALLENGE)
        return who

    return authenticate


def require_operator(who: Principal) -> None:
    if not who.is_operator:
        raise HTTPException(403, "operators only")


def require_self_or_operator(who: Principal, specialist_id: str) -> None:
    if not who.is_operator and who.specialist_id != specialist_id:
        raise HTTPException(403, "a specialist can see only their own")
