"""One system for the access, privacy and API-fuzzing tests: its own broker, PostgreSQL and
logs (`test-artifacts/logs-security/`), so the log scan reads only what these tests caused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..e2e.conftest import System, isolated_system

ROSTER = """id,name,email,roles,tumor_groups,max_active,languages,regions,institution,timezone
sec-breast-1,Dr Breast One,sb1@example.org,medical_oncologist,breast,50,en,GB,Inst A,UTC
sec-breast-2,Dr Breast Two,sb2@example.org,medical_oncologist,breast,50,en,GB,Inst B,UTC
sec-path-1,Dr Path One,sp1@example.org,pathologist,breast,50,en,GB,Inst C,UTC
"""


@pytest.fixture(scope="package")
def security_system(tmp_path_factory: pytest.TempPathFactory,
                    artifacts: Path) -> Iterator[System]:
    logs = artifacts / "logs-security"
    for old in logs.glob("*.log"):
        old.unlink()  # the PII scan reads every line: start from empty logs
    with isolated_system(tmp_path_factory.mktemp("security"), logs, roster=ROSTER) as system:
        yield system
