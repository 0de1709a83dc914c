"""Minimal reproduction: does Tansu answer a waiting fetch when a record arrives, or only when
the consumer's `fetch_max_wait_ms` runs out? One message every 130 ms to a group consumer,
delivery latency for three values of `fetch_max_wait_ms`.

    .venv/bin/python docs/repro/fetch_wait.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from _system import embedded_stack  # noqa: E402


async def trial(bootstrap: str, wait_ms: int) -> str:
    topic = f"probe-{wait_ms}"
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=topic,
                                auto_offset_reset="latest", fetch_max_wait_ms=wait_ms)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    latencies: list[float] = []

    async def read() -> None:
        while len(latencies) < 40:
            got = await consumer.getmany(timeout_ms=200)
            now = time.time()
            latencies.extend(now - float(r.value) for recs in got.values() for r in recs)

    reader = asyncio.create_task(read())
    await asyncio.sleep(6)  # the group join
    while not reader.done():
        await (await producer.send(topic, str(time.time()).encode()))
        await asyncio.sleep(0.13)
    await producer.stop()
    await consumer.stop()
    latencies.sort()
    return (f"fetch_max_wait_ms={wait_ms}: p50 {latencies[len(latencies) // 2] * 1000:.0f} ms,"
            f" max {latencies[-1] * 1000:.0f} ms")


async def main() -> None:
    with embedded_stack() as infra:
        for wait_ms in (500, 100, 20):
            print(await trial(infra.kafka or "", wait_ms))


if __name__ == "__main__":
    asyncio.run(main())
