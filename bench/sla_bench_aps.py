"""APScheduler 3's side of bench/sla_timers.py: a BackgroundScheduler with SQLAlchemyJobStore on
the same PostgreSQL; each job writes its effect (one row) into PostgreSQL, as ours writes an
event into the outbox. `misfire_grace_time=None`: every job runs however late (the default,
1 s, would silently drop the late ones)."""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

LEAD_S = 20.0
_engine: Engine | None = None  # the firing process's connections for the jobs' effects


def sa_url(dsn: str) -> str:
    return "postgresql+psycopg://" + dsn.split("://", 1)[1]


def rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the
    parent across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def scheduler(dsn: str, schema: str) -> BackgroundScheduler:
    store = SQLAlchemyJobStore(engine=create_engine(sa_url(dsn), pool_size=4), tableschema=schema)
    return BackgroundScheduler(jobstores={"default": store},
                               executors={"default": ThreadPoolExecutor(10)},
                               job_defaults={"misfire_grace_time": None, "coalesce": False},
                               timezone=UTC)


def fire_job(schema: str, job_id: str, due_epoch: float) -> None:
    """The job: record that it ran (its effect), by PostgreSQL's clock."""
    assert _engine is not None
    with _engine.begin() as conn:
        conn.execute(text(f'INSERT INTO "{schema}".fired (job_id, due_at, fired_at)'
                          " VALUES (:id, to_timestamp(:due), clock_timestamp())"),
                     {"id": job_id, "due": due_epoch})


def aps_arm(dsn: str, schema: str, n: int, burst: int) -> dict[str, Any]:
    engine = create_engine(sa_url(dsn))
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        conn.execute(text(f'CREATE TABLE IF NOT EXISTS "{schema}".fired (job_id text PRIMARY KEY,'
                          " due_at timestamptz NOT NULL, fired_at timestamptz NOT NULL)"))
    sched = scheduler(dsn, schema)
    sched.start(paused=True)  # add_job writes straight to the job store
    rng = random.Random(7)
    now = datetime.now(UTC)
    started = time.monotonic()
    for i in range(n - burst):
        due = now + timedelta(days=rng.uniform(2, 30))
        sched.add_job(fire_job, "date", run_date=due, id=f"far-{i}",
                      args=[schema, f"far-{i}", due.timestamp()])
    with engine.connect() as conn:
        due0 = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    due0 += timedelta(seconds=LEAD_S)
    for j in range(burst):
        due = due0 + timedelta(seconds=j / burst)
        sched.add_job(fire_job, "date", run_date=due, id=f"burst-{j}",
                      args=[schema, f"burst-{j}", due.timestamp()])
    seconds = time.monotonic() - started
    sched.shutdown(wait=False)
    engine.dispose()
    return {"rate": n / seconds, "arming_seconds": seconds, "due_at": due0.timestamp()}


def aps_fire_child(dsn: str, schema: str, burst: int, due_at: float) -> dict[str, Any]:
    global _engine
    _engine = create_engine(sa_url(dsn), pool_size=10)
    sched = scheduler(dsn, schema)
    sched.start()
    ready_rss, ready_in_time = rss_mb(), time.time() < due_at
    count = text(f'SELECT count(*) FROM "{schema}".fired')
    while True:
        with _engine.connect() as conn:
            if conn.execute(count).scalar_one() >= burst:
                break
        time.sleep(0.2)
    sched.shutdown(wait=False)
    with _engine.connect() as conn:
        late = [float(r[0]) for r in conn.execute(text(
            f'SELECT extract(epoch FROM fired_at - due_at) FROM "{schema}".fired'))]
    cuts = statistics.quantiles(late, n=100, method="inclusive")
    return {"p50": cuts[49], "p99": cuts[98], "max": max(late), "peak_rss_mb": rss_mb(),
            "ready_rss_mb": ready_rss, "ready_before_due": ready_in_time}
