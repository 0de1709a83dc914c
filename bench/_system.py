"""Start the embedded stack and the four services for a benchmark run (same code as `up`)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from oncoroute_shared.embedded.stack import (
    SERVICES,
    Infrastructure,
    ServiceProcess,
    free_port,
    wait_ready,
)

GROUPS = ["breast", "thoracic", "gastrointestinal", "haematologic", "genitourinary", "neuro"]


def roster(n: int = 60) -> str:
    lines = ["id,name,email,roles,tumor_groups,max_active,languages,regions,institution,timezone"]
    for i in range(n):
        group = GROUPS[i % len(GROUPS)]
        lines.append(f"b{i},Dr Bench {i},b{i}@example.org,medical_oncologist;pathologist;"
                     f"haematopathologist;radiologist;surgical_oncologist;haematologist,"
                     f"{group},1000,en,GB,Inst {i},UTC")
    return "\n".join(lines) + "\n"


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "oncoroute_shared.cli.main", *args],
                          env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"oncoroute {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


@contextlib.contextmanager
def embedded_stack(pg_settings: tuple[str, ...] = ()) -> Iterator[Infrastructure]:
    """A fresh embedded broker and PostgreSQL on free ports, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="oncoroute-bench-") as tmp:
        infra = Infrastructure(Path(tmp), broker_port=free_port(), pg_port=free_port(),
                               pg_settings=pg_settings).start()
        try:
            yield infra
        finally:
            infra.stop()


@contextlib.contextmanager
def running_system(
    extra_env: dict[str, str] | None = None, services: tuple[str, ...] = SERVICES,
    infra: Infrastructure | None = None,
) -> Iterator[tuple[Infrastructure, dict[str, ServiceProcess]]]:
    """The four services (as processes) on `infra`, or on a fresh embedded stack."""
    if infra is None:
        with embedded_stack() as fresh, running_system(extra_env, services, fresh) as running:
            yield running
        return
    with tempfile.TemporaryDirectory(prefix="oncoroute-bench-") as tmp:
        # 20 ms fetches: the least hop latency, for idle CPU a benchmark does not mind
        env = {**infra.env(), "LOG_LEVEL": "WARNING", "KAFKA_FETCH_MAX_WAIT_MS": "20",
               **(extra_env or {})}
        (Path(tmp) / "roster.csv").write_text(roster())
        cli(env, "specialists", "import", str(Path(tmp) / "roster.csv"))
        procs = {name: ServiceProcess(name, free_port(), env, Path(tmp) / f"{name}.log").start()
                 for name in services}
        try:
            wait_ready(list(procs.values()), deadline_s=120)
            yield infra, procs
        finally:
            for p in procs.values():
                p.stop()
