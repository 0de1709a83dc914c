"""Outages under load: the broker frozen, PostgreSQL down. Nothing is lost; producers and
consumers reconnect by themselves; readiness turns false and back."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from oncoroute_shared.envelope import encode, new_event

from ..e2e.conftest import System, isolated_system
from ..support.kafka import publish, read_all
from ..support.submissions import submission
from ..support.waiting import eventually

pytestmark = pytest.mark.e2e
BROKER_FREEZE_S = float(os.environ.get("ONCOROUTE_BROKER_OUTAGE_S", "60"))
DATABASE_DOWN_S = float(os.environ.get("ONCOROUTE_DATABASE_OUTAGE_S", "30"))


@pytest.fixture(scope="module")
def outage_system(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[System]:
    with isolated_system(tmp_path_factory.mktemp("outage"), artifacts / "logs-outage") as system:
        yield system


async def _assigned(db: asyncpg.Connection, source: str) -> int:
    return int(await db.fetchval(
        "SELECT count(DISTINCT a.case_id) FROM matcher.assignments a JOIN intake.cases c"
        " USING (case_id) WHERE c.source = $1", source))


async def _notified(db: asyncpg.Connection, source: str) -> int:
    return int(await db.fetchval(
        "SELECT count(DISTINCT d.case_id) FROM notify.deliveries d JOIN intake.cases c"
        " USING (case_id) WHERE c.source = $1 AND d.status = 'sent'", source))


async def test_broker_frozen_intake_keeps_accepting_and_nothing_is_lost(
    outage_system: System,
) -> None:
    broker = outage_system.infra.broker
    assert broker is not None and broker.proc is not None, "needs the embedded broker"
    source, accepted = "outage-broker", []
    db = await asyncpg.connect(outage_system.infra.database_url)
    try:
        async with outage_system.intake_client() as client:
            os.kill(broker.proc.pid, signal.SIGSTOP)
            frozen_at = time.monotonic()
            try:
                n = 0
                while time.monotonic() - frozen_at < BROKER_FREEZE_S:
                    r = await client.post("/v1/cases", json=submission(
                        source=source, external_id=f"frozen-{n}"))
                    assert r.status_code == 201, r.text
                    accepted.append(r.json()["case_id"])
                    n += 1
                    await asyncio.sleep(0.5)  # load pacing, not synchronisation
                backlog = await db.fetchval("SELECT count(*) FROM intake.outbox")
                assert backlog >= len(accepted), "the outbox holds what the broker cannot take"
            finally:
                os.kill(broker.proc.pid, signal.SIGCONT)
        total = len(accepted)
        thawed = time.monotonic()
        await eventually(lambda: _assigned_all(db, source, total), timeout=180, interval=1,
                         what=f"all {total} cases accepted during the freeze to be assigned")
        assigned_s = time.monotonic() - thawed
        await eventually(lambda: _notified_all(db, source, total), timeout=120, interval=1,
                         what="every such case notified")
        assert await db.fetchval("SELECT count(*) FROM intake.outbox") == 0
        print(f"\nbroker frozen {BROKER_FREEZE_S:.0f} s: {total} cases accepted over HTTP "
              f"meanwhile (outbox backlog {backlog}), all assigned {assigned_s:.0f} s and "
              f"notified {time.monotonic() - thawed:.0f} s after the thaw; outbox drained")
    finally:
        await db.close()


async def _assigned_all(db: asyncpg.Connection, source: str, total: int) -> bool:
    return await _assigned(db, source) == total


async def _notified_all(db: asyncpg.Connection, source: str, total: int) -> bool:
    return await _notified(db, source) == total


async def _ready(url: str) -> bool:
    async with httpx.AsyncClient(timeout=3) as client:
        return (await client.get(f"{url}/readyz")).status_code == 200


async def test_database_down_nothing_lost_and_readiness_recovers(outage_system: System) -> None:
    pg = outage_system.infra.postgres
    assert pg is not None, "needs the embedded PostgreSQL"
    source = "outage-db"
    bootstrap = outage_system.infra.kafka or ""
    docs = [submission(source=source, external_id=f"down-{n}") for n in range(40)]
    pg.stop()
    down_at = time.monotonic()
    try:
        for name in ("intake", "matcher"):
            url = outage_system.url(name)
            assert await eventually(lambda u=url: _not_ready(u), timeout=30,
                                        what=f"{name} to report not ready") is not False
        await publish(bootstrap, "case-submissions", [
            (d["external_id"].encode(),
             encode(new_event("case.submitted", source=source, subject=d["external_id"],
                              data=d))) for d in docs])
        await asyncio.sleep(max(0.0, DATABASE_DOWN_S - (time.monotonic() - down_at)))
    finally:
        pg.start()
    for name in outage_system.services:
        url = outage_system.url(name)
        await eventually(lambda u=url: _ready(u), timeout=60, what=f"{name} ready again")
    db = await asyncpg.connect(outage_system.infra.database_url)
    try:
        await eventually(lambda: _assigned_all(db, source, len(docs)), timeout=180,
                         interval=1, what="every submission sent during the outage assigned")
        assert await read_all(bootstrap, "dead-letters") == [], "valid work was dead-lettered"
        print(f"\nPostgreSQL down {DATABASE_DOWN_S:.0f} s: readiness 503 on intake and "
              f"matcher, {len(docs)} Kafka submissions sent meanwhile, all assigned "
              f"{time.monotonic() - down_at:.0f} s after it went down; no dead letter")
    finally:
        await db.close()
    for svc in outage_system.services.values():
        assert svc.alive(), f"{svc.name} died during the database outage"


async def _not_ready(url: str) -> bool:
    async with httpx.AsyncClient(timeout=5) as client:
        try:
            return (await client.get(f"{url}/readyz")).status_code == 503
        except httpx.HTTPError:
            return False
