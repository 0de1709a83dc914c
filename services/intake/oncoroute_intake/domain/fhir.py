"""Map a FHIR R4 Bundle (a second-opinion ServiceRequest with its Patient, Condition and
DocumentReferences) to the v1 submission document. Pure: parse with `fhir.resources`, no I/O.

- ServiceRequest: `identifier[0].value` is the `external_id`; `reasonCode` codings in
  `REASON_SYSTEM` are the `reasons`; `priority` urgent/asap/stat marks it urgent, with the
  text of the other `reasonCode`s as the reason; `note` texts are the patient's questions;
  `requester` (a Practitioner) is the referring physician.
- Patient (the ServiceRequest's `subject`): identifier, age from `birthDate`, gender, country,
  preferred language, email and phone.
- Condition (`reasonReference`, else the patient's first): ICD-10 / ICD-10-CM and ICD-O-3
  codings, text, stage, onset; its `asserter` (a Practitioner) is the first-opinion physician.
- DocumentReference: kind from `type` (LOINC, or `RECORD_KIND_SYSTEM`), `content[0]`'s URL,
  `date` as `received_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from oncoroute_shared.contracts.cases import Problem
from oncoroute_shared.contracts.submissions import RECORD_KINDS

REASON_SYSTEM = "https://oncoroute.org/fhir/CodeSystem/second-opinion-reason"
RECORD_KIND_SYSTEM = "https://oncoroute.org/fhir/CodeSystem/record-kind"
ICD10_SYSTEMS = ("http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm")
ICDO3_SYSTEMS = (
    "http://terminology.hl7.org/CodeSystem/icd-o-3", "urn:oid:2.16.840.1.113883.6.43.1",
)
LOINC = "http://loinc.org"
# LOINC document types -> record kind
LOINC_KINDS = {
    "11526-1": "pathology_report", "60568-3": "pathology_report", "22034-5": "pathology_report",
    "18748-4": "imaging_report", "18782-3": "imaging_report", "55113-5": "imaging",
    "11502-2": "lab_results", "26436-6": "lab_results",
    "51969-4": "genomic_report", "81247-9": "genomic_report",
    "11506-3": "clinical_notes", "11488-4": "clinical_notes", "34117-2": "clinical_notes",
    "18842-5": "discharge_summary",
    "18776-5": "treatment_plan", "52521-2": "treatment_plan",
}
URGENT_PRIORITIES = ("urgent", "asap", "stat")
BUNDLE_TYPES = ("transaction", "collection")


class FhirInvalid(Exception):
    """The bundle cannot be mapped; `issues` says where (FHIRPath) and why."""

    def __init__(self, issues: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in issues))
        self.issues = issues


@dataclass
class _Index:
    by_ref: dict[str, Any]
    resources: list[Any]

    def resolve(self, ref: Any) -> Any:
        target = getattr(ref, "reference", None) if ref is not None else None
        return self.by_ref.get(target) if target else None

    def of_type(self, name: str) -> list[Any]:
        return [r for r in self.resources if r.get_resource_type() == name]


def _parse(doc: Any) -> Any:
    from fhir.resources.R4B.bundle import Bundle

    if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle":
        raise FhirInvalid([Problem(path="Bundle", message="expected a FHIR R4 Bundle resource")])
    try:
        return Bundle.model_validate(doc)
    except ValidationError as exc:
        raise FhirInvalid([
            Problem(path=".".join(["Bundle", *(str(p) for p in e["loc"])]), message=e["msg"])
            for e in exc.errors(include_url=False, include_input=False)
        ]) from None
    except Exception as exc:  # untrusted input: e.g. an unknown resourceType is a KeyError
        raise FhirInvalid([Problem(path="Bundle.entry",
                                   message=f"not a FHIR R4 resource ({type(exc).__name__})")]) \
            from None


def _index(bundle: Any) -> _Index:
    by_ref: dict[str, Any] = {}
    resources = []
    for entry in bundle.entry or []:
        res = entry.resource
        if res is None:
            continue
        resources.append(res)
        if entry.fullUrl:
            by_ref[entry.fullUrl] = res
        if res.id:
            by_ref[f"{res.get_resource_type()}/{res.id}"] = res
    return _Index(by_ref, resources)


def _first(items: Any) -> Any:
    return items[0] if items else None


def _codings(concept: Any) -> list[Any]:
    return list(getattr(concept, "coding", None) or [])


def _code_in(concept: Any, systems: tuple[str, ...]) -> str | None:
    return next((c.code for c in _codings(concept) if c.system in systems and c.code), None)


def _text(concept: Any) -> str | None:
    if concept is None:
        return None
    return concept.text or next((c.display for c in _codings(concept) if c.display), None)


def _name(person: Any) -> str | None:
    name = _first(getattr(person, "name", None))
    if name is None:
        return None
    return name.text or " ".join([*(name.prefix or []), *(name.given or []),
                                  name.family or ""]).strip() or None


def _age(birth: Any, today: date) -> int | None:
    if isinstance(birth, date):
        return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    if isinstance(birth, str) and birth[:4].isdigit():
        return today.year - int(birth[:4])
    return None


def _telecom(resource: Any, system: str) -> str | None:
    return next((t.value for t in getattr(resource, "telecom", None) or []
                 if t.system == system and t.value), None)


def _patient(p: Any, today: date) -> dict[str, Any]:
    ident = _first(p.identifier)
    address = _first(p.address)
    comms = p.communication or []
    comm = next((c for c in comms if c.preferred), _first(comms))
    language = (_code_in(comm.language, ("urn:ietf:bcp:47",)) or _text(comm.language)) \
        if comm else None
    tz = next((e.valueCode for e in p.extension or [] if (e.url or "").endswith("/tz-code")), None)
    doc: dict[str, Any] = {
        "reference": ident.value if ident else p.id,
        "age": _age(p.birthDate, today),
        "sex": p.gender,
        "country": (address.country or "").upper() if address else None,
        "contact": {"email": _telecom(p, "email"), "phone": _telecom(p, "phone")},
    }
    if language:
        doc["language"] = language
    if tz:
        doc["timezone"] = tz
    return doc


def _diagnosis(c: Any) -> dict[str, Any]:
    stage = _first(c.stage)
    onset = c.onsetDateTime or c.recordedDate
    return {
        "icd10": _code_in(c.code, ICD10_SYSTEMS),
        "icd_o3_morphology": _code_in(c.code, ICDO3_SYSTEMS),
        "description": _text(c.code),
        "stage": _text(stage.summary) if stage else None,
        "diagnosed_on": _day(onset),
    }


def _day(value: Any) -> str | None:
    """A FHIR dateTime may be a datetime, a date or a partial `2026-10`; only days count."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return None


def _record(d: Any) -> dict[str, Any]:
    kind = _code_in(d.type, (RECORD_KIND_SYSTEM,))
    if kind not in RECORD_KINDS:
        kind = LOINC_KINDS.get(_code_in(d.type, (LOINC,)) or "", "other")
    content = _first(d.content)
    attachment = content.attachment if content else None
    return {"kind": kind, "uri": getattr(attachment, "url", None),
            "received_at": d.date.isoformat() if d.date else None}


def _request(index: _Index) -> Any:
    requests = index.of_type("ServiceRequest")
    if len(requests) != 1:
        raise FhirInvalid([Problem(path="Bundle.entry",
                                   message=f"expected one ServiceRequest, found {len(requests)}")])
    return requests[0]


def to_submission(doc: Any, today: date) -> dict[str, Any]:
    """The submission document (not yet validated) a bundle stands for; FhirInvalid if the
    bundle is not a FHIR R4 Bundle of the expected shape."""
    bundle = _parse(doc)
    if bundle.type not in BUNDLE_TYPES:
        raise FhirInvalid([Problem(path="Bundle.type",
                                   message="must be transaction or collection")])
    index = _index(bundle)
    request = _request(index)
    patient = index.resolve(request.subject)
    if patient is None or patient.get_resource_type() != "Patient":
        raise FhirInvalid([Problem(path="ServiceRequest.subject",
                                   message="must reference a Patient in the bundle")])
    condition = next((r for r in map(index.resolve, request.reasonReference or [])
                      if r is not None and r.get_resource_type() == "Condition"), None) \
        or _first(index.of_type("Condition"))
    ident = _first(request.identifier)
    reasons = [c.code for rc in request.reasonCode or [] for c in _codings(rc)
               if c.system == REASON_SYSTEM]
    free_reasons = [rc.text for rc in request.reasonCode or []
                    if rc.text and not any(c.system == REASON_SYSTEM for c in _codings(rc))]
    urgent = request.priority in URGENT_PRIORITIES
    submission: dict[str, Any] = {
        "external_id": ident.value if ident else None,
        "patient": _patient(patient, today),
        "diagnosis": _diagnosis(condition) if condition else {},
        "reasons": reasons,
        "questions": [n.text for n in request.note or [] if n.text],
        "records": [_record(d) for d in index.of_type("DocumentReference")],
        "urgent": urgent,
    }
    if urgent:
        submission["urgent_reason"] = "; ".join(free_reasons) or None
    requester = index.resolve(request.requester)
    if requester is not None and requester.get_resource_type() == "Practitioner":
        submission["referring_physician"] = {"name": _name(requester),
                                             "email": _telecom(requester, "email")}
    asserter = index.resolve(condition.asserter) if condition else None
    if asserter is not None and asserter.get_resource_type() == "Practitioner":
        pid = _first(asserter.identifier)
        submission["first_opinion"] = {"physician_id": pid.value if pid else None,
                                       "physician_name": _name(asserter)}
    return submission


# Where a submission field came from, to point FHIR senders at their own resources.
_ORIGINS = (("patient", "Patient"), ("diagnosis", "Condition"), ("records", "DocumentReference"),
            ("external_id", "ServiceRequest.identifier"), ("reasons", "ServiceRequest.reasonCode"),
            ("questions", "ServiceRequest.note"), ("urgent", "ServiceRequest.priority"),
            ("referring_physician", "ServiceRequest.requester"),
            ("first_opinion", "Condition.asserter"), ("source", "ServiceRequest"))


def origin(path: str) -> str:
    """`patient.age` -> `Patient (submission patient.age)`."""
    for prefix, where in _ORIGINS:
        if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "_"):
            return f"{where} (submission {path})"
    return f"Bundle (submission {path})"
