"""Logs are structured JSON lines that carry case ids and trace ids, and never personal or
clinical data nor a secret: a full case (HTTP, FHIR and Kafka submissions, bad ones too, an
accepted offer and an opinion) with a recognisable patient name, email, phone, record number
and diagnosis, then every line of every service's log is scanned for them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from oncoroute_shared.envelope import encode, new_event

from ..e2e.conftest import System
from ..support.kafka import publish
from ..support.submissions import submission
from ..support.waiting import eventually
from ..unit.test_intake_fhir import bundle

pytestmark = pytest.mark.e2e
SOURCE = "sec-privacy"
NAME, GIVEN, FAMILY = "Zephyrine Quillfeather", "Zephyrine", "Quillfeather"
EMAIL = "zephyrine.quillfeather@pii-probe.example.org"
PHONE = "+44 7700 900417"
MRN = "MRN-ZQ-98765"
DIAGNOSIS = "Invasive ductal carcinoma, quillfeather variant"
OPINION = "Quillfeather tumour board agrees"
PERSONAL = [NAME, GIVEN, FAMILY, EMAIL, EMAIL.split("@")[0], PHONE, PHONE.replace(" ", ""),
            "7700900417", MRN, DIAGNOSIS, "quillfeather variant", OPINION]


def doc(external_id: str, **overrides: Any) -> dict[str, Any]:
    d = submission(source=SOURCE, external_id=external_id, reasons=["reassurance"], **overrides)
    d["patient"]["reference"] = MRN
    d["patient"]["contact"] = {"email": EMAIL, "phone": PHONE}
    d["patient"]["consent"] = {"email": True, "sms": True}
    d["diagnosis"]["description"] = DIAGNOSIS
    d["first_opinion"]["recommendation"] = f"Mastectomy for {NAME}"
    d["questions"] = [f"{NAME} asks whether surgery is needed"]
    d["referring_physician"] = {"name": f"Dr {FAMILY}", "email": EMAIL}
    return d


def fhir_bundle() -> dict[str, Any]:
    return bundle(Patient={"name": [{"family": FAMILY, "given": [GIVEN]}],
                           "identifier": [{"value": MRN}],
                           "telecom": [{"system": "phone", "value": PHONE},
                                       {"system": "email", "value": EMAIL}]},
                  ServiceRequest={"identifier": [{"value": "privacy-fhir-1"}],
                                  "note": [{"text": f"{NAME} would like to know more"}]},
                  Condition={"code": {"text": DIAGNOSIS, "coding": [
                      {"system": "http://hl7.org/fhir/sid/icd-10", "code": "C50.9"}]}})


async def submit_everything(system: System) -> str:
    """The case the test follows (HTTP), and its siblings by every other way in, bad ones too."""
    key = system.cli("keys", "create", "--source", SOURCE)
    assert key.returncode == 0, key.stderr
    headers = {"Authorization": f"Bearer {key.stdout.strip()}"}
    async with httpx.AsyncClient(base_url=system.url("intake"), headers=headers,
                                 timeout=30) as intake:
        r = await intake.post("/v1/cases", json=doc("privacy-http-1"))
        assert r.status_code == 201, r.text
        case_id = str(r.json()["case_id"])
        fhir = await intake.post("/fhir/r4/Bundle", json=fhir_bundle(),
                                 headers={"content-type": "application/fhir+json"})
        assert fhir.status_code == 201, fhir.text
        bad = doc("privacy-bad-1")
        bad["patient"]["contact"]["email"] = f"{NAME} <not an address>"
        bad["patient"]["age"] = -1
        assert (await intake.post("/v1/cases", json=bad)).status_code == 422
        records = await intake.post(f"/v1/cases/{case_id}/records", json={"records": [
            {"kind": "clinical_notes", "uri": f"https://records.example.org/{FAMILY}"}]})
        assert records.status_code == 200, records.text
    broken = doc("privacy-kafka-bad")
    broken["patient"]["sex"] = f"{NAME}"
    await publish(system.infra.kafka or "", "case-submissions", [
        (d["external_id"].encode(), encode(new_event(
            "case.submitted", source=SOURCE, subject=d["external_id"], data=d)))
        for d in (doc("privacy-kafka-1"), broken)])
    return case_id


async def review(system: System, case_id: str) -> None:
    """The offered specialist accepts and gives an opinion through the matcher's API."""
    db = await asyncpg.connect(system.infra.database_url)
    try:
        async def offered() -> Any:
            return await db.fetchrow("SELECT assignment_id, specialist_id FROM"
                                     " matcher.assignments WHERE case_id = $1", case_id)

        row = await eventually(offered, timeout=90, what="the case offered to a reviewer")
        token = system.cli("specialists", "token", row["specialist_id"])
        assert token.returncode == 0, token.stderr
        auth = {"Authorization": f"Bearer {token.stdout.strip()}"}
        async with httpx.AsyncClient(base_url=system.url("matcher"), headers=auth,
                                     timeout=30) as m:
            base = f"/v1/assignments/{row['assignment_id']}"
            assert (await m.post(f"{base}/accept")).status_code == 200
            r = await m.post(f"{base}/opinion", json={
                "diagnosis": "confirmed", "treatment_plan": "agreed", "summary": OPINION,
                "report_uri": f"https://records.example.org/opinions/{FAMILY}"})
            assert r.status_code == 200, r.text

        async def settled() -> bool:
            clock = await db.fetchval("SELECT state FROM sla.clocks WHERE case_id = $1",
                                      case_id)
            pending = await db.fetchval(
                # a patient's message in their quiet hours is deferred, not pending
                "SELECT count(*) FILTER (WHERE status NOT IN ('sent', 'deferred'))"
                " FROM notify.deliveries"
                " WHERE case_id = $1", case_id)
            sent = await db.fetchval("SELECT count(*) FROM notify.deliveries"
                                     " WHERE case_id = $1 AND status = 'sent'", case_id)
            return clock == "met" and pending == 0 and sent >= 3

        await eventually(settled, timeout=120, interval=0.5,
                         what="clock met and every message of the case sent")
    finally:
        await db.close()


def log_lines(logs: Path) -> dict[str, list[str]]:
    return {f.stem: f.read_text(errors="replace").splitlines() for f in sorted(logs.glob("*.log"))}


async def test_logs_are_json_with_case_and_trace_ids_and_carry_no_personal_data(
    security_system: System, artifacts: Path,
) -> None:
    case_id = await submit_everything(security_system)
    await review(security_system, case_id)
    lines = log_lines(artifacts / "logs-security")
    assert set(lines) >= {"intake", "matcher", "sla", "notify"}
    secrets = [v for k, v in security_system.env.items()
               if k.endswith(("SECRET", "SECRETS", "PASSWORD", "TOKEN"))]
    secrets.append(json.loads(security_system.env["WEBHOOK_SECRETS"])["sec-privacy"])
    secrets += [security_system.operator_headers["Authorization"].split()[1],
                security_system.intake_headers["Authorization"].split()[1]]
    leaks, not_json, traced = [], [], {}
    for service, text in lines.items():
        for n, line in enumerate(text, 1):
            try:
                entry = json.loads(line)
            except ValueError:
                not_json.append(f"{service}:{n}: {line[:120]}")
                continue
            assert {"ts", "level", "service", "msg"} <= set(entry), line
            lowered = line.lower()
            found = [p for p in PERSONAL if p.lower() in lowered]
            found += ["a secret" for s in secrets if s and s in line]
            if found:
                leaks.append(f"{service}:{n}: {found}")
            if entry.get("case_id") == case_id and entry.get("trace_id"):
                traced[service] = traced.get(service, 0) + 1
    total = sum(len(t) for t in lines.values())
    print(f"\nlogs: {total} lines from {len(lines)} services scanned, {len(leaks)} with personal "
          f"data or a secret, {len(not_json)} not JSON; lines with the case and trace id: "
          f"{traced}")
    assert not_json == [], not_json[:5]
    assert leaks == [], leaks[:10]
    assert set(traced) == {"intake", "matcher", "sla", "notify"}, traced
