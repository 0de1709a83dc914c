"""Example events of every kind notify handles, and an example case: for `oncoroute notify
preview` and for the tests that render every template against every event it serves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from oncoroute_shared.envelope import CloudEvent, new_event

CASE_ID = "0b9d2f4e-6a1c-4c1e-9a53-2f1d8c7e5b10"
ASSIGNMENT_ID = "a7e1c9d2-3b4f-4e6a-8c1d-5f2e9b0a7c34"
AT = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


def submission(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "source": "st-marys-his", "external_id": "SO-2026-000123",
        "patient": {"reference": "MRN-448812", "age": 61, "sex": "female", "language": "en",
                    "country": "GB", "timezone": "Europe/London",
                    "contact": {"email": "patient@example.org", "phone": "+44 7700 900123"},
                    "consent": {"email": True, "sms": True}},
        "diagnosis": {"icd10": "C92.0", "icd_o3_morphology": "9861/3",
                      "description": "Acute myeloid leukaemia", "stage": None},
        "first_opinion": {"physician_id": "GMC-1234567", "physician_name": "Dr A Smith",
                          "institution": "St Mary's Hospital",
                          "recommendation": "Induction chemotherapy (7+3)"},
        "reasons": ["confirm_diagnosis"],
        "records": [{"kind": "pathology_report", "uri": "https://pacs.example.org/reports/991"}],
        "referring_physician": {"name": "Dr B Jones", "email": "b.jones@example.org"},
        "callback_url": "https://his.example.org/oncoroute/callback",
    }
    doc.update(overrides)
    return doc


def _step(step: str, case_id: str = CASE_ID, **extra: Any) -> dict[str, Any]:
    return {"case_id": case_id, "tier": "fast_progressing", "step": step,
            "deadline": (AT + timedelta(hours=24)).isoformat(), "fired_at": AT.isoformat(),
            **extra}


def datas(case_id: str = CASE_ID) -> dict[str, dict[str, Any]]:
    """The `data` of one example event per kind notify acts on."""
    seat = {"assignment_id": ASSIGNMENT_ID, "case_id": case_id, "seat": "disease_specialist",
            "reviewer_id": "sp-001", "at": AT.isoformat()}
    docs: dict[str, dict[str, Any]] = {
        "case.opened": {"case_id": case_id, "opened_at": AT.isoformat(),
                        "status": "awaiting_records",
                        "classification": {"tier": "fast_progressing",
                                           "tumor_group": "haematologic",
                                           "fast_progressing": True, "rule": "acute_leukaemia"},
                        "missing_records": ["pathology_slides"], "submission": submission()},
        "case.updated": {"case_id": case_id, "status": "ready", "missing_records": []},
        "case.closed": {"case_id": case_id, "reason": "withdrawn"},
        "assignment.offered": {"assignment_id": ASSIGNMENT_ID, "case_id": case_id,
                               "seat": "disease_specialist", "role": "haematologist",
                               "tumor_group": "haematologic", "tier": "fast_progressing",
                               "reviewer": {"id": "sp-001", "name": "Dr Asha Rao",
                                            "email": "asha.rao@example.org",
                                            "phone": "+91 98200 00001"},
                               "offered_at": AT.isoformat()},
        "assignment.accepted": seat,
        "assignment.declined": {**seat, "reason": "on leave"},
        "assignment.expired": seat,
        "assignment.completed": seat,
        "case.opinion_ready": {"case_id": case_id, "seats": [
            {"seat": "disease_specialist", "reviewer_id": "sp-001", "diagnosis": "refined",
             "treatment_plan": "modified",
             "report_uri": "https://portal.example.org/reports/r-77"}]},
        "case.unmatched": {"case_id": case_id, "seat": "disease_specialist",
                           "role": "haematologist", "tumor_group": "haematologic",
                           "reasons": {"at_capacity": 3, "conflict_of_interest": 1}},
        "sla.warning": _step("warning_50", case_id, audience=["reviewers"]),
        "sla.escalated": _step("escalation", case_id, level="expedite",
                               audience=["reviewers", "tumor_group_lead", "operators_on_call"]),
        "sla.breached": _step("breach", case_id, audience=["reviewers", "tumor_group_lead",
                                                  "operators_on_call"]),
        "sla.acceptance_expired": _step("acceptance", case_id, assignment_id=ASSIGNMENT_ID,
                                        seat="disease_specialist", reviewer_id="sp-001",
                                        audience=["tumor_group_lead"]),
    }
    return docs


def records_reminder(case_id: str = CASE_ID) -> dict[str, Any]:
    return _step("records:1", case_id, audience=["referring_physician"])


def event(kind: str, data: dict[str, Any], case_id: str = CASE_ID) -> CloudEvent:
    return new_event(kind, source="oncoroute/samples", subject=case_id, data=data, time=AT)


def policy_doc() -> dict[str, Any]:
    """A `notify` policy section with a lead, an operator and quiet hours."""
    return {
        "quiet_hours": {"start": "21:00", "end": "08:00"},
        "tumor_group_leads": {"default": [{"name": "Dr Lead", "email": "lead@example.org",
                                           "phone": "+44 7700 900001"}]},
        "operators_on_call": [{"name": "Operator", "email": "ops@example.org",
                               "phone": "+44 7700 900002"}],
    }
