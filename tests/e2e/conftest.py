"""The four services as separate OS processes against the real broker and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from oncoroute_shared.embedded.stack import (
    SERVICES,
    Infrastructure,
    ServiceProcess,
    wait_ready,
)

from ..support.stack import free_port

ROSTER = """id,name,email,roles,tumor_groups,max_active,languages,regions,institution,timezone
e2e-breast-1,Dr Breast One,b1@example.org,medical_oncologist,breast,400,en,GB,Inst A,UTC
e2e-breast-2,Dr Breast Two,b2@example.org,medical_oncologist,breast,400,en,GB,Inst B,UTC
e2e-haem-1,Dr Haem One,h1@example.org,haematologist,haematologic,50,en,GB,Inst C,UTC
"""


@dataclass
class System:
    infra: Infrastructure
    services: dict[str, ServiceProcess]

    def url(self, name: str) -> str:
        return self.services[name].url

    def restart(self, name: str) -> None:
        svc = self.services[name]
        svc.kill()
        svc.start()
        wait_ready([svc])


def oncoroute(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "oncoroute_shared.cli.main", *args],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="session")
def system(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory,
           artifacts: Path) -> Iterator[System]:
    env = {**infra.env(), "ONCOROUTE_TIME_SCALE": "1", "CONSUMER_MAX_ATTEMPTS": "3"}
    roster = tmp_path_factory.mktemp("roster") / "roster.csv"
    roster.write_text(ROSTER)
    imported = oncoroute(env, "specialists", "import", str(roster))
    assert imported.returncode == 0, imported.stderr
    logs = artifacts / "logs"
    logs.mkdir(exist_ok=True)
    services = {name: ServiceProcess(name, free_port(), env, logs / f"{name}.log").start()
                for name in SERVICES}
    try:
        wait_ready(list(services.values()), deadline_s=120)
        yield System(infra, services)
    finally:
        for svc in services.values():
            svc.stop()
