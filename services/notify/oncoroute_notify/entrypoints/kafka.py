"""Notify's subscriptions."""

from __future__ import annotations

from oncoroute_shared.messaging.consumer import Subscription
from oncoroute_shared.runtime import Runtime
from oncoroute_shared.topics import Topic

from .. import handlers


def subscriptions(runtime: Runtime) -> list[Subscription]:
    async def on_offered(conn, event, offer) -> None:  # type: ignore[no-untyped-def]
        await handlers.on_assignment_offered(conn, event, offer,
                                             runtime.settings.matcher_public_url)

    return [Subscription(Topic.ASSIGNMENTS, {"assignment.offered": on_offered})]
