"""Valid submissions for tests."""

from __future__ import annotations

import uuid
from typing import Any


def submission(icd10: str = "C50.9", **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "source": "test-hospital",
        "external_id": str(uuid.uuid4()),
        "patient": {"reference": "MRN-1", "age": 54, "sex": "female", "language": "en",
                    "country": "GB", "contact": {"email": "patient@example.org"},
                    "consent": {"email": True, "sms": False}},
        "diagnosis": {"icd10": icd10, "icd_o3_morphology": "8500/3",
                      "description": "Invasive ductal carcinoma", "stage": "II"},
        "first_opinion": {"physician_id": "ext-9", "physician_name": "Dr First",
                          "institution": "General Hospital", "recommendation": "Surgery"},
        "reasons": ["confirm_diagnosis"],
        "records": [{"kind": "pathology_report", "uri": "https://records.example.org/1"}],
        "referring_physician": {"name": "Dr Ref", "email": "ref@example.org"},
    }
    doc.update(overrides)
    return doc
