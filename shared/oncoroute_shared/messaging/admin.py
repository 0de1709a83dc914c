"""Create every topic at start with an explicit partition count."""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from ..topics import ALL_TOPICS

log = logging.getLogger("oncoroute.admin")


async def ensure_topics(client_kwargs: dict, partitions: int, replication: int) -> list[str]:
    admin = AIOKafkaAdminClient(**client_kwargs)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t.value for t in ALL_TOPICS if t.value not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(name, partitions, replication) for name in missing]
                )
            except TopicAlreadyExistsError:
                pass  # another service created it first
        return missing
    finally:
        await admin.close()
