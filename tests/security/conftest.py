"""One system for the access, privacy and API-fuzzing tests: its own broker, PostgreSQL and
logs (`test-artifacts/logs-security/`), so the log scan reads only what these tests caused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from oncoroute_shared.policy import DEFAULT_POLICY

from ..e2e.conftest import System, isolated_system
from ..support.notify_http import SECRET as WEBHOOK_SECRET

ROSTER = """id,name,email,roles,tumor_groups,max_active,languages,regions,institution,timezone
sec-breast-1,Dr Breast One,sb1@example.org,medical_oncologist,breast,50,en,GB,Inst A,UTC
sec-breast-2,Dr Breast Two,sb2@example.org,medical_oncologist,breast,50,en,GB,Inst B,UTC
sec-path-1,Dr Path One,sp1@example.org,pathologist,breast,50,en,GB,Inst C,UTC
"""

# Secrets the services hold: the log scan checks none of them is ever written out.
SECRETS = {"LINK_SIGNING_SECRET": "sec-link-signing-secret-9f1c2e",  # pragma: allowlist secret
           "WEBHOOK_SECRETS": json.dumps({"sec-privacy": WEBHOOK_SECRET}),
           "SMTP_PASSWORD": "sec-smtp-password-77d1",  # pragma: allowlist secret
           "KAFKA_SASL_PASSWORD": "sec-kafka-pw-31a8",  # pragma: allowlist secret
           "SMS_GATEWAY_TOKEN": "sec-sms-gateway-token-5be0"}  # pragma: allowlist secret


@pytest.fixture(scope="package")
def security_system(tmp_path_factory: pytest.TempPathFactory,
                    artifacts: Path) -> Iterator[System]:
    logs = artifacts / "logs-security"
    for old in logs.glob("*.log"):
        old.unlink()  # the PII scan reads every line: start from empty logs
    tmp = tmp_path_factory.mktemp("security")
    # every message is sent at once, whatever the hour (a patient's would wait for morning in
    # quiet hours), so the log scan sees every delivery rendered and sent
    doc = yaml.safe_load(Path(str(DEFAULT_POLICY)).read_text())
    doc["notify"]["quiet_hours"] = None
    (tmp / "policy.yaml").write_text(yaml.safe_dump(doc))
    env = {**SECRETS, "ONCOROUTE_POLICY": str(tmp / "policy.yaml")}
    with isolated_system(tmp, logs, roster=ROSTER, env=env) as system:
        yield system
