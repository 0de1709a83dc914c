"""Minimal reproduction: can a tool read a consumer group's lag from Tansu, as kafka-exporter
and `kafka-consumer-groups --describe` do from Apache Kafka? Ten records in one batch, a group
consumer that commits after reading them, then (1) the group's committed offset against the
partition's end offset, and (2) the admin client's list of groups.

    .venv/bin/python docs/repro/group_offsets.py
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from _system import embedded_stack  # noqa: E402

TOPIC, GROUP = "offsets-probe", "offsets-probe-group"


async def main(bootstrap: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=50)
    await producer.start()
    futures = [await producer.send(TOPIC, b"x", partition=0) for _ in range(10)]
    await asyncio.gather(*futures)
    await producer.stop()

    consumer = AIOKafkaConsumer(TOPIC, bootstrap_servers=bootstrap, group_id=GROUP,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    read = 0
    while read < 10:
        got = await consumer.getmany(timeout_ms=1000)
        read += sum(len(v) for v in got.values())
    await consumer.commit()
    await consumer.stop()

    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=GROUP)
    await probe.start()
    tp = TopicPartition(TOPIC, 0)
    end = (await probe.end_offsets([tp]))[tp]
    committed = await probe.committed(tp)
    await probe.stop()
    print(f"records read and committed: {read}; end offset {end}; committed {committed};"
          f" lag {end - (committed or 0)} (Apache Kafka: end 10, committed 10, lag 0)")

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        print("groups:", await admin.list_consumer_groups())
    except Exception as exc:  # what Tansu's answer does to aiokafka's decoder
        print(f"list_consumer_groups failed: {type(exc).__name__}: {str(exc)[:160]}")
    finally:
        await admin.close()


if __name__ == "__main__":
    with embedded_stack() as infra:
        asyncio.run(main(infra.kafka or ""))
