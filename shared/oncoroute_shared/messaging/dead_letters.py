"""Dead letters: the original message untouched, with why, who and where in headers."""

from __future__ import annotations

import asyncpg

from ..topics import Topic
from .outbox import enqueue


async def dead_letter(
    conn: asyncpg.Connection, *, consumer: str, topic: str, partition: int, offset: int,
    key: bytes | None, value: bytes | None, error: str,
) -> None:
    await enqueue(
        conn, Topic.DEAD_LETTERS, key.decode(errors="replace") if key else None, value or b"",
        [
            ("x-dead-letter-error", error[:2000]),
            ("x-dead-letter-consumer", consumer),
            ("x-dead-letter-topic", topic),
            ("x-dead-letter-partition", str(partition)),
            ("x-dead-letter-offset", str(offset)),
        ],
    )
