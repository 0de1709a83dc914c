"""`oncoroute up --demo`: a demo roster and a steady stream of realistic synthetic cases."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import uuid
from importlib.resources import files
from typing import Any

DIAGNOSES = [  # (icd10, morphology, description, weight)
    ("C92.0", "9861/3", "Acute myeloid leukaemia", 2),
    ("C91.0", "9835/3", "Acute lymphoblastic leukaemia", 1),
    ("C50.9", "8500/3", "Invasive ductal carcinoma of breast", 6),
    ("C34.1", "8140/3", "Adenocarcinoma of upper lobe of lung", 4),
    ("C34.9", "8041/3", "Small cell carcinoma of lung", 1),
    ("C18.7", "8140/3", "Adenocarcinoma of sigmoid colon", 3),
    ("C61", "8140/3", "Adenocarcinoma of prostate", 3),
    ("C71.9", "9440/3", "Glioblastoma", 1),
    ("C83.3", "9680/3", "Diffuse large B-cell lymphoma", 2),
    ("C56", "8461/3", "High-grade serous carcinoma of ovary", 2),
    (None, None, "Suspicious mass, histology pending", 1),
]
REASONS = ["confirm_diagnosis", "treatment_options", "confirm_treatment_plan", "reassurance",
           "surgery_recommended", "chemotherapy_recommended", "unclear_test_results",
           "rare_cancer", "clinical_trials", "lack_of_local_expertise"]
TREATMENTS = ["surgery", "chemotherapy", "radiotherapy", "immunotherapy", "targeted_therapy",
              "hormone_therapy", "watchful_waiting"]
RECORD_KINDS = ["pathology_report", "imaging_report", "treatment_plan", "lab_results",
                "genomic_report"]
QUESTIONS = ["Is the diagnosis certain?", "Are there other treatments I should consider?",
             "Is there a clinical trial I could join?", "How urgent is treatment?"]
DEMO_SOURCE = "demo-hospital"


def load_demo_roster(env: dict[str, str]) -> int:
    roster = files("oncoroute_shared") / "demo_roster.csv"
    out = subprocess.run(
        [sys.executable, "-m", "oncoroute_shared.cli.main", "specialists", "import", str(roster)],
        env={**__import__("os").environ, **env}, capture_output=True, text=True, check=True,
    )
    return int(out.stdout.split()[1])


def demo_api_key(env: dict[str, str]) -> str:
    """A fresh key for the demo feed's source; the previous demo key is revoked."""
    out = subprocess.run(
        [sys.executable, "-m", "oncoroute_shared.cli.main", "keys", "create",
         "--source", DEMO_SOURCE, "--name", "demo-feed", "--rotate"],
        env={**__import__("os").environ, **env}, capture_output=True, text=True, check=True,
    )
    return out.stdout.strip()


def _record(kind: str) -> dict[str, Any]:
    return {"kind": kind, "uri": f"https://records.example.org/{uuid.uuid4()}"}


def synthetic_submission(rng: random.Random) -> dict[str, Any]:
    icd10, morph, description, _ = rng.choices(DIAGNOSES, [d[3] for d in DIAGNOSES])[0]
    records = [_record(kind) for kind in RECORD_KINDS]
    if rng.random() < 0.2:
        records = rng.sample(records, rng.randint(0, 2))  # some arrive with records missing
    return {
        "source": DEMO_SOURCE,
        "external_id": str(uuid.uuid4()),
        "patient": {"reference": f"MRN-{rng.randint(100000, 999999)}", "age": rng.randint(2, 90),
                    "sex": rng.choice(["female", "male"]), "language": rng.choice(["en", "hi"]),
                    "country": rng.choice(["GB", "IN", "US"]),
                    "contact": {"email": "patient@example.org"},
                    "consent": {"email": True, "sms": False}},
        "diagnosis": {"icd10": icd10, "icd_o3_morphology": morph, "description": description,
                      "stage": rng.choice(["I", "II", "III", "IV", None]),
                      "diagnosed_on": f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}"},
        "first_opinion": {"physician_id": "ext-1", "physician_name": "Dr First",
                          "institution": "General Hospital",
                          "recommendation": "See attached plan",
                          "proposed_treatments": rng.sample(TREATMENTS, rng.randint(1, 2))},
        "reasons": rng.sample(REASONS, 2),
        "questions": rng.sample(QUESTIONS, rng.randint(0, 2)),
        "report_language": rng.choice(["en", "hi"]),
        "records": records,
        "referring_physician": {"name": "Dr Referrer", "email": "referrer@example.org"},
    }


class DemoFeed(threading.Thread):
    """Submits synthetic cases; now and then sends the records an earlier case was missing."""

    def __init__(self, intake_url: str, rate: float, stop: threading.Event,
                 api_key: str | None = None) -> None:
        super().__init__(daemon=True, name="demo-feed")
        self._url = intake_url
        self._interval = 1.0 / max(rate, 0.01)
        self._halt = stop  # not `_stop`: threading.Thread has a method of that name
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def run(self) -> None:
        import httpx

        rng = random.Random(7)
        awaiting: list[tuple[str, list[str]]] = []
        with httpx.Client(base_url=self._url, timeout=10, headers=self._headers) as client:
            while not self._halt.wait(self._interval):
                try:
                    if awaiting and rng.random() < 0.3:
                        case_id, missing = awaiting.pop(0)
                        client.post(f"/v1/cases/{case_id}/records",
                                    json={"records": [_record(k) for k in missing]})
                        continue
                    r = client.post("/v1/cases", json=synthetic_submission(rng))
                    if r.status_code == 201 and r.json().get("missing_records"):
                        awaiting.append((r.json()["case_id"], r.json()["missing_records"]))
                except httpx.HTTPError:
                    pass  # intake restarting; the next tick tries again
