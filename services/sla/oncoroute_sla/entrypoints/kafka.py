"""Sla's subscriptions."""

from __future__ import annotations

from oncoroute_shared.messaging.consumer import Subscription
from oncoroute_shared.runtime import Runtime
from oncoroute_shared.topics import Topic

from .. import handlers


def subscriptions(runtime: Runtime) -> list[Subscription]:
    async def on_opened(conn, event, case) -> None:  # type: ignore[no-untyped-def]
        await handlers.on_case_opened(conn, event, case, runtime.state["policy"],
                                      runtime.settings.oncoroute_time_scale)

    return [Subscription(Topic.CASES, {"case.opened": on_opened})]
