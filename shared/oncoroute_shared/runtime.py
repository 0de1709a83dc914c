"""The one composition pattern every service shares: settings, pool, migrations, topics,
outbox relay, inbox-guarded subscribers, HTTP routes and health, wired in a lifespan.

A service supplies a `ServiceSpec` whose `build` returns its subscriptions, routes and loops;
nothing connects at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
from fastapi import APIRouter, FastAPI
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.message import StreamMessage
from prometheus_client import REGISTRY

from . import kafka_config, logs, policy
from .db.migrations import migrate
from .db.pool import create_pool
from .http_guard import RefuseNul
from .messaging import inbox_retention
from .messaging.admin import ensure_topics
from .messaging.consumer import Processor, Record, Subscription, process_topics
from .messaging.polling import poll_without_sleep
from .messaging.relay import OutboxRelay
from .observability import DEAD_LETTERS, health_router
from .settings import ServiceSettings, load
from .tracing import tracer_provider

log = logging.getLogger("oncoroute.runtime")
EMBEDDED_DATABASE = "postgresql://postgres@127.0.0.1:5433/oncoroute"
# Apache Kafka answers a background consumer's fetch at 64 KiB or when its wait runs out
BACKGROUND_FETCH_MIN_BYTES = 64 * 1024


@dataclass
class ServiceParts:
    subscriptions: list[Subscription] = field(default_factory=list)
    routers: list[APIRouter] = field(default_factory=list)
    loops: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)


@dataclass
class Runtime:
    """What a service's bootstrap gets to wire its handlers with."""

    name: str
    settings: Any = None
    policy: dict[str, Any] = field(default_factory=dict)
    pool: asyncpg.Pool | None = None
    state: dict[str, Any] = field(default_factory=dict)
    starters: list[Callable[[], Any]] = field(default_factory=list)

    def on_start(self, hook: Callable[[], Any]) -> None:
        """Run `hook` once settings, policy and pool exist, before any message is consumed."""
        self.starters.append(hook)

    def db(self) -> asyncpg.Pool:
        assert self.pool is not None, "the pool exists once the service has started"
        return self.pool


@dataclass
class ServiceSpec:
    name: str
    title: str
    default_port: int
    migrations: Path
    build: Callable[[Runtime], ServiceParts]
    settings_cls: type[ServiceSettings] = ServiceSettings
    validate_policy: Callable[[dict[str, Any]], Any] = lambda doc: None


def database_url(settings: ServiceSettings) -> str:
    return settings.database_url or EMBEDDED_DATABASE


def build_broker(spec: ServiceSpec, runtime: Runtime, parts: ServiceParts, *,
                 per_topic: bool = False) -> KafkaBroker:
    """The service's broker: one consumer (group `oncoroute.<service>`) for its topics on a
    case's way to its reviewers and one (`oncoroute.<service>.background`) for the others, so
    an idle service makes a fetch per wait per group, not one per topic. `per_topic` describes
    each topic as its own operation, for the AsyncAPI document."""
    settings: ServiceSettings = runtime.settings
    broker = KafkaBroker(
        kafka_config.bootstrap(settings),
        client_id=f"oncoroute-{spec.name}",
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        middlewares=[
            KafkaTelemetryMiddleware(tracer_provider=tracer_provider(spec.name)),
            KafkaPrometheusMiddleware(registry=REGISTRY, app_name=spec.name),
        ],
        description=spec.title,
        security=kafka_config.faststream_security(settings),
        logger=logging.getLogger(f"oncoroute.{spec.name}.kafka"),
    )
    for sub in parts.subscriptions:
        sub.consumer = f"{spec.name}.{sub.topic}"
    if per_topic:
        for sub in parts.subscriptions:
            _subscribe(broker, runtime, [sub], sub.consumer)
        return broker
    urgent = [sub for sub in parts.subscriptions if not sub.background]
    background = [sub for sub in parts.subscriptions if sub.background]
    if urgent:
        _subscribe(broker, runtime, urgent, spec.name)
    if background:
        _subscribe(broker, runtime, background, f"{spec.name}.background", background=True)
    return broker


async def raw_records(message: StreamMessage[Any]) -> Any:
    """The decoder: the records as fetched (the processors decode and check them). A
    coroutine, and the handler takes no context argument: FastStream runs synchronous
    decoders and context lookups (a `KafkaMessage` parameter) in a worker thread, a thread
    hand-off for every poll."""
    return message.raw_message


def _subscribe(broker: KafkaBroker, runtime: Runtime, subs: list[Subscription],
               name: str, *, background: bool = False) -> None:
    """One subscriber for `subs`' topics; each topic's records go to its own processor (its
    handlers, inbox name and dead letters), in the order they were fetched; the topics side
    by side unless `background` (`process_topics`)."""
    processors: dict[str, Processor] = {}
    by_topic = {sub.topic: sub for sub in subs}

    def processor(topic: str) -> Processor:
        if topic not in processors:
            processors[topic] = Processor(
                runtime.db(), by_topic[topic], runtime.settings.consumer_max_attempts,
                lambda consumer: DEAD_LETTERS.labels(consumer).inc())
        return processors[topic]

    async def on_message(raw: Any) -> None:  # the fetched records, as `raw_records` gives them
        by_record_topic: dict[str, list[Record]] = {}
        for r in raw if isinstance(raw, tuple) else (raw,):
            by_record_topic.setdefault(r.topic, []).append(
                Record(r.topic, r.partition, r.offset, r.key, r.value,
                       {k: v.decode(errors="replace") for k, v in r.headers or ()}))
        await process_topics(by_record_topic, processor, side_by_side=not background)

    settings: ServiceSettings | None = runtime.settings
    batch_max = settings.consumer_batch_max if settings else 1
    fetch_wait = settings.kafka_fetch_max_wait_ms if settings else 500
    if background:  # batches of up to that long: one transaction for many events
        fetch_wait = settings.kafka_background_fetch_max_wait_ms if settings else 500
    subscriber = broker.subscriber(
        *by_topic,
        group_id=f"oncoroute.{name}",
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        batch=batch_max > 1,
        max_records=batch_max if batch_max > 1 else None,
        fetch_max_wait_ms=fetch_wait,
        fetch_min_bytes=BACKGROUND_FETCH_MIN_BYTES if background else 1,
        # How long one poll waits for records; it returns as soon as any arrive
        # (poll_without_sleep), so this only sets how often an idle consumer loops
        batch_timeout_ms=200,
        # A broker that comes back after an outage rebalances within seconds, not after
        # aiokafka's default 5-minute rebalance timeout (see docs/KNOWN_ISSUES.md).
        max_poll_interval_ms=60_000,
        rebalance_timeout_ms=15_000,
        decoder=raw_records,
        title=name,
        description="Handles: " + ", ".join(sorted({h for s in subs for h in s.handlers})),
    )
    subscriber(on_message)
    if batch_max > 1:
        poll_without_sleep(subscriber)


def create_app(spec: ServiceSpec) -> FastAPI:
    """The ASGI app; everything connects in the lifespan."""
    runtime = Runtime(spec.name)
    parts = spec.build(runtime)
    state: dict[str, Any] = {"runtime": runtime}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = load(spec.settings_cls)
        logs.configure(spec.name, settings.log_level)
        doc = policy.load_document(settings.oncoroute_policy)
        spec.validate_policy(doc)
        runtime.settings, runtime.policy = settings, doc
        # a service started while the database restarts waits for it rather than exiting
        runtime.pool = await create_pool(database_url(settings), spec.name, settings.db_pool_max,
                                         wait_s=120.0)
        async with runtime.pool.acquire() as conn:
            await migrate(conn, spec.name, spec.migrations)
        await ensure_topics(kafka_config.client_kwargs(settings),
                            settings.kafka_topic_partitions, settings.kafka_replication_factor)
        for hook in runtime.starters:
            result = hook()
            if asyncio.iscoroutine(result):
                await result
        broker = build_broker(spec, runtime, parts)
        await start_broker(broker)
        relay = OutboxRelay(runtime.pool, _Publisher(broker), spec.name,
                            database_url(settings))
        tasks = [asyncio.create_task(relay.run(), name="outbox-relay"),
                 asyncio.create_task(inbox_retention.run(
                     runtime.pool, timedelta(days=settings.inbox_retention_days)),
                     name="inbox-retention")]
        tasks += [asyncio.create_task(loop(), name=getattr(loop, "__name__", "loop"))
                  for loop in parts.loops]
        state.update(broker=broker, relay=relay)
        log.info("%s started (time scale %s)", spec.name, settings.oncoroute_time_scale)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await broker.stop()
            await runtime.pool.close()

    app = FastAPI(title=f"OncoRoute {spec.name}", description=spec.title, lifespan=lifespan)
    app.add_middleware(RefuseNul)
    app.include_router(health_router(state))
    for router in parts.routers:
        app.include_router(router)
    return app


async def start_broker(broker: KafkaBroker) -> None:
    """`broker.start()`, but the subscribers join their consumer groups at once rather than
    one after another (each join takes seconds on a fresh group)."""
    await broker.connect()
    await asyncio.gather(*(sub.start() for sub in broker.subscribers))
    for pub in broker.publishers:
        await pub.start()
    broker.running = True


class _Publisher:
    """The relay publishes through FastStream so its middlewares see every message."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def send(self, topic: str, *, value: bytes, key: bytes | None,
                   headers: list[tuple[str, bytes]]) -> asyncio.Future:
        return await self._broker.publish(
            value, topic, key=key, headers={k: v.decode() for k, v in headers},
            no_confirm=True,
        )
