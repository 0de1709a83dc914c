"""Start the infrastructure the services need (embedded where not configured) and the
services themselves as separate OS processes. Used by `oncoroute up` and by the tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .broker import EmbeddedBroker, wait_for_port
from .postgres import EmbeddedPostgres

SERVICES = ("intake", "matcher", "sla", "notify")
DEFAULT_PORTS = {"intake": 8081, "matcher": 8082, "sla": 8083, "notify": 8084}


@dataclass
class Infrastructure:
    """The broker and database addresses, starting embedded ones where none is given."""

    data_dir: Path
    kafka: str | None = None
    database_url: str | None = None
    broker_port: int = 9092
    pg_port: int = 5433
    broker: EmbeddedBroker | None = None
    postgres: EmbeddedPostgres | None = None
    pg_settings: tuple[str, ...] = ()

    def start(self) -> Infrastructure:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.kafka is None:
            self.broker = EmbeddedBroker(port=self.broker_port,
                                         log_path=self.data_dir / "broker.log").start()
            self.kafka = self.broker.bootstrap_servers
        if self.database_url is None:
            self.postgres = EmbeddedPostgres(self.data_dir / "postgres", port=self.pg_port,
                                             settings=self.pg_settings).start()
            self.database_url = self.postgres.local_url
        return self

    def env(self) -> dict[str, str]:
        assert self.kafka and self.database_url
        env = {"KAFKA_BOOTSTRAP_SERVERS": self.kafka, "DATABASE_URL": self.database_url,
               "ONCOROUTE_DATA_DIR": str(self.data_dir)}
        if self.broker is not None:  # Tansu holds a fetch its whole wait, records or not:
            # 100 ms keeps a hop under ~50 ms while an idle system costs a quarter of a core
            env["KAFKA_FETCH_MAX_WAIT_MS"] = "100"
        return env

    def stop(self) -> None:
        if self.postgres:
            self.postgres.stop()
        if self.broker:
            self.broker.stop()


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = field(default=None, repr=False)
    log_offset: int = field(default=0, repr=False)  # where this start's lines begin

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "oncoroute_shared.cli.main", "run", self.name,
                "--port", str(self.port)]

    def start(self) -> ServiceProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115
        self.log_offset = log.tell()
        self.proc = subprocess.Popen(self.command(), env={**os.environ, **self.env},
                                     stdout=log, stderr=log, start_new_session=True)
        return self

    def wait_listening(self, deadline_s: float = 60) -> None:
        wait_for_port("127.0.0.1", self.port, deadline_s, self.proc)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            assert self.proc
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        if self.alive():
            assert self.proc
            self.proc.kill()
            self.proc.wait()


PORT_TAKEN = "address already in use"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(services: list[ServiceProcess], deadline_s: float = 90,
               port_retries: int = 3) -> None:
    """Poll each service's /readyz until it answers 200 with its own name. A free port is
    picked before the service binds it, so another process may take it in between: a service
    that exits because its port was taken (or whose port another service answers on) is
    started again on a new port, up to `port_retries` times; any other exit is an error."""
    import httpx

    end = time.monotonic() + deadline_s
    pending = list(services)
    restarts = {id(svc): 0 for svc in services}
    while pending and time.monotonic() < end:
        for svc in list(pending):
            if not svc.alive():
                lost_port = PORT_TAKEN in _log_since(svc, svc.log_offset)
                if not lost_port or restarts[id(svc)] >= port_retries:
                    raise RuntimeError(f"{svc.name} exited; see {svc.log_path}")
                restarts[id(svc)] += 1
                svc.port = free_port()
                svc.start()
                continue
            try:
                answer = httpx.get(f"{svc.url}/readyz", timeout=2)
                if answer.status_code == 200 and answer.json().get("service") == svc.name:
                    pending.remove(svc)
            except (httpx.HTTPError, ValueError):
                pass
        if pending:
            time.sleep(0.2)
    if pending:
        raise TimeoutError(f"not ready: {[s.name for s in pending]}")


def _log_since(svc: ServiceProcess, offset: int) -> str:
    try:
        with open(svc.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")
    except OSError:
        return ""
