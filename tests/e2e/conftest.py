"""The four services as separate OS processes against the real broker and PostgreSQL.

`system` is the session-wide system on the default policy. A test module that needs another
policy or settings (seconds-scale clocks, an SMTP server) starts its own isolated system with
`start_system(...)`: its own embedded broker and PostgreSQL, so systems never share topics,
consumer groups or schemas.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from oncoroute_shared.embedded.stack import (
    SERVICES,
    Infrastructure,
    ServiceProcess,
    wait_ready,
)
from oncoroute_shared.operator_access import new_token

from ..support.stack import free_port, start_infrastructure

ROSTER = """id,name,email,roles,tumor_groups,max_active,languages,regions,institution,timezone
e2e-breast-1,Dr Breast One,b1@example.org,medical_oncologist,breast,400,en,GB,Inst A,UTC
e2e-breast-2,Dr Breast Two,b2@example.org,medical_oncologist,breast,400,en,GB,Inst B,UTC
e2e-haem-1,Dr Haem One,h1@example.org,haematologist,haematologic,50,en,GB,Inst C,UTC
"""


@dataclass
class System:
    infra: Infrastructure
    services: dict[str, ServiceProcess]
    env: dict[str, str]
    intake_headers: dict[str, str] = field(default_factory=dict)
    # sla's and notify's APIs: an operator token whose digest is in OPERATOR_TOKEN_HASHES
    operator_headers: dict[str, str] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return self.services[name].url

    def intake_client(self, timeout: float = 30) -> httpx.AsyncClient:
        """An HTTP client for intake carrying the submitting system's credentials."""
        return httpx.AsyncClient(base_url=self.url("intake"), headers=self.intake_headers,
                                 timeout=timeout)

    def operator_client(self, name: str, timeout: float = 30) -> httpx.AsyncClient:
        """An HTTP client for sla or notify carrying an operator token."""
        return httpx.AsyncClient(base_url=self.url(name), headers=self.operator_headers,
                                 timeout=timeout)

    def restart(self, name: str) -> None:
        svc = self.services[name]
        svc.kill()
        svc.start()
        wait_ready([svc])

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return oncoroute(self.env, *args)


def oncoroute(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "oncoroute_shared.cli.main", *args],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


@contextlib.contextmanager
def start_system(infra: Infrastructure, workdir: Path, logs: Path, *, roster: str = ROSTER,
                 env: dict[str, str] | None = None,
                 services: tuple[str, ...] = SERVICES) -> Iterator[System]:
    """Import `roster`, start `services` with `env` on `infra`, stop them afterwards."""
    operator_token, operator_digest = new_token()
    full_env = {**infra.env(), "CONSUMER_MAX_ATTEMPTS": "3",
                "OPERATOR_TOKEN_HASHES": operator_digest, **(env or {})}
    roster_file = workdir / "roster.csv"
    roster_file.write_text(roster)
    imported = oncoroute(full_env, "specialists", "import", str(roster_file))
    assert imported.returncode == 0, imported.stderr
    # The tests act as an operator: they submit for several sources and read every case.
    key = oncoroute(full_env, "keys", "create", "--operator", "--name", "e2e-tests")
    assert key.returncode == 0, key.stderr
    headers = {"Authorization": f"Bearer {key.stdout.strip()}"}
    logs.mkdir(parents=True, exist_ok=True)
    procs = {name: ServiceProcess(name, free_port(), full_env, logs / f"{name}.log").start()
             for name in services}
    try:
        wait_ready(list(procs.values()), deadline_s=120)
        yield System(infra, procs, full_env, intake_headers=headers,
                     operator_headers={"Authorization": f"Bearer {operator_token}"})
    finally:
        for svc in procs.values():
            svc.stop()


@contextlib.contextmanager
def isolated_system(tmp: Path, logs: Path, **kwargs: object) -> Iterator[System]:
    """A system with its own embedded broker and PostgreSQL (for a module's own policy)."""
    infra = start_infrastructure(tmp / "data")
    try:
        with start_system(infra, tmp, logs, **kwargs) as system:  # type: ignore[arg-type]
            yield system
    finally:
        infra.stop()


@pytest.fixture(scope="session")
def system(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory,
           artifacts: Path) -> Iterator[System]:
    with start_system(infra, tmp_path_factory.mktemp("system"), artifacts / "logs") as system:
        yield system
