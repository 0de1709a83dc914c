"""Secrets: none committed (Yelp's detect-secrets over every tracked file, against an audited
baseline), none stored (API keys and tokens only as hashes: the whole database is searched for
the raw ones), none echoed by a settings error; Kafka's TLS and SASL settings reach both Kafka
clients (aiokafka's admin client and FastStream's broker), with a private CA through
`SSL_CERT_FILE`."""

from __future__ import annotations

import hashlib
import os
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest
from detect_secrets.core import baseline
from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.settings import transient_settings
from faststream.security import BaseSecurity, SASLScram512

from oncoroute_shared import kafka_config
from oncoroute_shared.embedded.stack import SERVICES
from oncoroute_shared.settings import ServiceSettings

from ..e2e.conftest import System
from ..support.submissions import submission

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / ".secrets.baseline"
SKIPPED = (".png", ".lock", ".secrets.baseline")  # the baseline holds the audited hashes


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.splitlines()
    return [f for f in listed if not f.endswith(SKIPPED) and (ROOT / f).is_file()]


@pytest.mark.unit
def test_no_secret_is_committed() -> None:
    """A finding not in the audited baseline fails; to accept a test fixture or placeholder,
    regenerate the baseline (docs/RELIABILITY.md) and mark it `is_secret: false`."""
    known = baseline.load_from_file(str(BASELINE))
    assert all(not s.get("is_secret", True) for items in known["results"].values()
               for s in items), "every baseline entry is audited as not a secret"
    with transient_settings({"plugins_used": known["plugins_used"],
                             "filters_used": known["filters_used"]}):
        found = SecretsCollection()
        previous = os.getcwd()
        os.chdir(ROOT)  # detect-secrets reads the files by their relative names
        try:
            found.scan_files(*tracked_files())
        finally:
            os.chdir(previous)
        new = found - baseline.load(known, filename=str(BASELINE))
    leaks = [f"{name}:{secret.line_number} {secret.type}" for name, secret in new]
    assert leaks == [], f"possible secrets committed: {leaks}"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.e2e
async def test_keys_and_tokens_are_stored_only_as_hashes(security_system: System) -> None:
    made = security_system.cli("keys", "create", "--source", "sec-hash")
    specialist = security_system.cli("specialists", "token", "sec-path-1")
    operator = security_system.cli("specialists", "token", "--operator")
    raw = [made.stdout.strip(), specialist.stdout.strip(), operator.stdout.strip(),
           security_system.operator_headers["Authorization"].split()[1]]
    assert all(raw), "keys and tokens were issued"
    async with httpx.AsyncClient(timeout=30) as client:  # each is used once
        r = await client.post(f"{security_system.url('intake')}/v1/cases",
                              headers=_bearer(raw[0]),
                              json=submission(source="sec-hash", reasons=["reassurance"]))
        assert r.status_code == 201, r.text
        r = await client.get(f"{security_system.url('matcher')}/v1/specialists/sec-path-1",
                             headers=_bearer(raw[1]))
        assert r.status_code == 200, r.text
    db = await asyncpg.connect(security_system.infra.database_url)
    try:
        tables = await db.fetch("SELECT table_schema, table_name FROM information_schema.tables"
                                " WHERE table_schema = ANY($1::text[])"
                                " AND table_type = 'BASE TABLE'", list(SERVICES))
        dump = []
        for t in tables:
            rows = await db.fetch(f'SELECT t::text AS row FROM "{t["table_schema"]}".'
                                  f'"{t["table_name"]}" t')
            dump += [r["row"] for r in rows]
        text = "\n".join(dump)
    finally:
        await db.close()
    assert len(tables) >= 15 and len(dump) > 20
    stored_raw = [token[:8] for token in raw if token in text]
    assert stored_raw == [], f"raw credentials found in the database: {stored_raw}"
    hashes = [hashlib.sha256(token.encode()).hexdigest() for token in raw[:3]]
    assert all(h in text for h in hashes), "each key and token is kept as its SHA-256"


@pytest.mark.unit
@pytest.mark.parametrize(("service", "env", "secret"), [
    ("notify", {"LINK_SIGNING_SECRET": "shortsecret1"}, "shortsecret1"),  # pragma: allowlist secret
    ("notify", {"WEBHOOK_SECRETS": '{"src": "whsec_***not-base64-topsecret"}'}, "topsecret"),
    ("intake", {"DATABASE_URL": "mysql://admin:topsecret@db/x"},  # pragma: allowlist secret
     "topsecret"),
])
def test_a_bad_setting_is_named_without_echoing_its_value(service: str, env: dict[str, str],
                                                           secret: str) -> None:
    done = subprocess.run([sys.executable, "-m", "oncoroute_shared.cli.main", "run", service,
                           "--port", "0"], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0
    assert "invalid settings" in done.stderr
    assert secret not in done.stdout + done.stderr


@pytest.mark.unit
def test_kafka_tls_and_sasl_settings_reach_both_clients(tmp_path: Path) -> None:
    settings = ServiceSettings(kafka_bootstrap_servers="kafka-0.example.org:9093",
                               kafka_security_protocol="SASL_SSL",
                               kafka_sasl_mechanism="SCRAM-SHA-512",
                               kafka_sasl_username="oncoroute-intake",
                               kafka_sasl_password="change-me")  # pragma: allowlist secret
    kwargs = kafka_config.client_kwargs(settings)
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert (kwargs["sasl_mechanism"], kwargs["sasl_plain_username"],
            kwargs["sasl_plain_password"]) == ("SCRAM-SHA-512", "oncoroute-intake", "change-me")
    context: ssl.SSLContext = kwargs["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    security = kafka_config.faststream_security(settings)
    assert isinstance(security, SASLScram512) and security.use_ssl
    tls_only = ServiceSettings(kafka_security_protocol="SSL")
    assert type(kafka_config.faststream_security(tls_only)) is BaseSecurity
    assert kafka_config.faststream_security(ServiceSettings()) is None


@pytest.mark.unit
def test_a_private_certificate_authority_comes_from_ssl_cert_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    openssl = shutil.which("openssl")
    assert openssl, "openssl (Debian's openssl package) makes the test CA"
    ca = tmp_path / "ca.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=OncoRoute Test Kafka CA", "-keyout", str(tmp_path / "k.pem"),
                    "-out", str(ca)], check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    context = kafka_config.client_kwargs(
        ServiceSettings(kafka_security_protocol="SSL"))["ssl_context"]
    subjects = [dict(x[0] for x in cert["subject"]) for cert in context.get_ca_certs()]
    assert {"commonName": "OncoRoute Test Kafka CA"} in subjects
