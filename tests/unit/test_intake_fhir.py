"""FHIR R4 Bundle -> v1 submission. The resources follow the published FHIR R4 examples
(Patient `example`, DocumentReference `example`, Condition with an ICD-10 coding, a referral
ServiceRequest), put together as the transaction a hospital system would send."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from oncoroute_intake.domain.codes import load
from oncoroute_intake.domain.fhir import REASON_SYSTEM, FhirInvalid, origin, to_submission
from oncoroute_intake.domain.validation import check_submission

pytestmark = pytest.mark.unit
TODAY = date(2026, 11, 21)

PATIENT = {
    "resourceType": "Patient", "id": "example",
    "identifier": [{"use": "usual", "type": {"coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
        "system": "urn:oid:1.2.36.146.595.217.0.1", "value": "12345"}],
    "active": True,
    "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]}],
    "telecom": [{"system": "phone", "value": "(03) 5555 6473", "use": "work", "rank": 1},
                {"system": "email", "value": "peter.chalmers@example.org"}],
    "gender": "male", "birthDate": "1974-12-25",
    "address": [{"use": "home", "line": ["534 Erewhon St"], "city": "PleasantVille",
                 "state": "Vic", "postalCode": "3999", "country": "AU"}],
    "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en"}]},
                       "preferred": True}],
}
PRACTITIONER = {
    "resourceType": "Practitioner", "id": "example",
    "identifier": [{"system": "http://www.acme.org/practitioners", "value": "23"}],
    "name": [{"family": "Careful", "given": ["Adam"], "prefix": ["Dr"]}],
    "telecom": [{"system": "email", "value": "adam.careful@example.org"}],
}
CONDITION = {
    "resourceType": "Condition", "id": "aml",
    "clinicalStatus": {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
    "verificationStatus": {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        "code": "confirmed"}]},
    "category": [{"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
        "code": "encounter-diagnosis"}]}],
    "code": {"coding": [
        {"system": "http://hl7.org/fhir/sid/icd-10", "code": "C92.0",
         "display": "Acute myeloblastic leukaemia"},
        {"system": "http://snomed.info/sct", "code": "91861009",
         "display": "Acute myeloid leukemia"},
        {"system": "http://terminology.hl7.org/CodeSystem/icd-o-3", "code": "9861/3"}],
        "text": "Acute myeloid leukaemia"},
    "subject": {"reference": "Patient/example"},
    "onsetDateTime": "2026-10-30", "recordedDate": "2026-11-01",
    "asserter": {"reference": "Practitioner/example"},
}
DOCUMENT = {
    "resourceType": "DocumentReference", "id": "example",
    "status": "current", "docStatus": "preliminary",
    "type": {"coding": [{"system": "http://loinc.org", "code": "11526-1",
                         "display": "Pathology study"}]},
    "subject": {"reference": "Patient/example"},
    "date": "2026-11-02T09:43:41+11:00",
    "content": [{"attachment": {
        "contentType": "application/pdf", "language": "en-US",
        "url": "http://example.org/xds/mhd/Binary/07a6483f-732b-461e-86b6-edb665c45510"}}],
}
REQUEST = {
    "resourceType": "ServiceRequest", "id": "second-opinion",
    "identifier": [{"system": "http://hospital.example.org/referrals", "value": "SO-2026-42"}],
    "status": "active", "intent": "order", "priority": "routine",
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "103696004",
                         "display": "Patient referral to specialist"}],
             "text": "Second opinion"},
    "subject": {"reference": "Patient/example"},
    "authoredOn": "2026-11-03T10:00:00Z",
    "requester": {"reference": "Practitioner/example"},
    "reasonCode": [{"coding": [{"system": REASON_SYSTEM, "code": "confirm_diagnosis"}]},
                   {"coding": [{"system": REASON_SYSTEM, "code": "treatment_options"}]}],
    "reasonReference": [{"reference": "Condition/aml"}],
    "supportingInfo": [{"reference": "DocumentReference/example"}],
    "note": [{"text": "Is a transplant an option for me?"}],
}


def bundle(kind: str = "transaction", **changes: dict[str, Any]) -> dict[str, Any]:
    """A second-opinion bundle; `changes` replace fields of the named resources."""
    resources = {"Patient": PATIENT, "Practitioner": PRACTITIONER, "Condition": CONDITION,
                 "DocumentReference": DOCUMENT, "ServiceRequest": REQUEST}
    entries = []
    for name, resource in resources.items():
        res = copy.deepcopy(resource) | changes.get(name, {})
        entry: dict[str, Any] = {"fullUrl": f"http://hospital.example.org/fhir/{name}/{res['id']}",
                                 "resource": res}
        if kind == "transaction":
            entry["request"] = {"method": "POST", "url": name}
        entries.append(entry)
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


@pytest.mark.parametrize("kind", ["transaction", "collection"])
def test_a_second_opinion_bundle_maps_to_the_v1_submission(kind: str) -> None:
    doc = to_submission(bundle(kind), TODAY)
    sub, problems = check_submission({**doc, "source": "hospital-fhir"}, load())
    assert problems == [] and sub is not None
    assert sub.external_id == "SO-2026-42"
    assert (sub.patient.reference, sub.patient.age, sub.patient.sex, sub.patient.country,
            sub.patient.language) == ("12345", 51, "male", "AU", "en")
    assert sub.patient.contact.email == "peter.chalmers@example.org"
    assert (sub.diagnosis.icd10, sub.diagnosis.icd_o3_morphology) == ("C92.0", "9861/3")
    assert sub.diagnosis.description == "Acute myeloid leukaemia"
    assert str(sub.diagnosis.diagnosed_on) == "2026-10-30"
    assert sub.reasons == ["confirm_diagnosis", "treatment_options"]
    assert sub.questions == ["Is a transplant an option for me?"]
    [record] = sub.records
    assert record.kind == "pathology_report" and record.uri.endswith("edb665c45510")
    assert record.received_at is not None
    assert sub.referring_physician is not None
    assert sub.referring_physician.name == "Dr Adam Careful"
    assert sub.first_opinion.physician_id == "23"
    assert not sub.urgent


def test_urgent_priority_takes_the_free_text_reason() -> None:
    doc = to_submission(bundle(ServiceRequest={
        "priority": "urgent",
        "reasonCode": [{"text": "white count doubling in a week"}]}), TODAY)
    assert doc["urgent"] and doc["urgent_reason"] == "white count doubling in a week"


def test_partial_birth_dates_and_cm_codes() -> None:
    condition = copy.deepcopy(CONDITION)
    condition["code"]["coding"][0] = {"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                      "code": "C92.00"}
    doc = to_submission(bundle(Patient={"birthDate": "1960"}, Condition=condition), TODAY)
    assert doc["patient"]["age"] == 66 and doc["diagnosis"]["icd10"] == "C92.00"


@pytest.mark.parametrize(("doc", "where"), [
    ({"resourceType": "Patient"}, "Bundle"),
    ([1, 2], "Bundle"),
    (bundle("searchset"), "Bundle.type"),
    ({"resourceType": "Bundle", "type": "collection", "entry": "x"}, "Bundle.entry"),
    ({"resourceType": "Bundle", "type": "collection",
      "entry": [{"resource": {"resourceType": "NoSuchThing"}}]}, "Bundle.entry"),
    ({"resourceType": "Bundle", "type": "collection",
      "entry": [{"resource": {"resourceType": "Patient", "gender": 5}}]},
     "Bundle.entry.0.resource.gender"),
    ({"resourceType": "Bundle", "type": "collection", "entry": []}, "Bundle.entry"),
    (bundle(ServiceRequest={"subject": {"reference": "Patient/elsewhere"}}),
     "ServiceRequest.subject"),
])
def test_bundles_that_cannot_be_mapped_say_where(doc: Any, where: str) -> None:
    with pytest.raises(FhirInvalid) as err:
        to_submission(doc, TODAY)
    assert where in [issue.path for issue in err.value.issues]


def test_mapped_problems_point_at_the_fhir_resource() -> None:
    doc = to_submission(bundle(ServiceRequest={"identifier": []},
                               Patient={"gender": None, "address": []}), TODAY)
    _sub, problems = check_submission({**doc, "source": "s"}, load())
    where = {origin(p.path) for p in problems}
    assert "ServiceRequest.identifier (submission external_id)" in where
    assert "Patient (submission patient.sex)" in where
    assert "Patient (submission patient.country)" in where
