"""`case.submitted` on `case-submissions`: what external intake systems send (v1).

The same document is the body of `POST /v1/cases` and what a FHIR R4 Bundle is mapped to.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

Sex = Literal["female", "male", "other", "unknown"]
# Why the patient seeks a second opinion (the common reasons in cancer care).
Reason = Literal[
    "confirm_diagnosis", "treatment_options", "rare_cancer", "unclear_test_results",
    "chemotherapy_recommended", "surgery_recommended", "lack_of_local_expertise",
    "clinical_trials", "confirm_treatment_plan", "reassurance", "other",
]
RecordKind = Literal[
    "pathology_report", "pathology_slides", "imaging", "imaging_report", "lab_results",
    "genomic_report", "clinical_notes", "discharge_summary", "treatment_plan", "other",
]
Treatment = Literal[
    "surgery", "chemotherapy", "radiotherapy", "immunotherapy", "targeted_therapy",
    "hormone_therapy", "transplant", "watchful_waiting", "other",
]
REASONS: tuple[str, ...] = Reason.__args__  # type: ignore[attr-defined]
RECORD_KINDS: tuple[str, ...] = RecordKind.__args__  # type: ignore[attr-defined]
TREATMENTS: tuple[str, ...] = Treatment.__args__  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Contact(_Strict):
    email: EmailStr | None = Field(None, description="Patient's email address")
    phone: str | None = Field(None, max_length=32, pattern=r"^\+?[0-9 ()\-]{5,32}$")


class Consent(_Strict):
    email: bool = Field(False, description="Patient agreed to be contacted by email")
    sms: bool = Field(False, description="Patient agreed to be contacted by SMS")


class Patient(_Strict):
    reference: str = Field(
        min_length=1, max_length=100, description="The submitting system's patient reference"
    )
    age: int = Field(ge=0, le=130)
    sex: Sex
    language: str = Field("en", min_length=2, max_length=35, examples=["en", "hi"])
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    timezone: str | None = Field(
        None, max_length=64, description="IANA time zone, for quiet hours",
        examples=["Europe/London"],
    )
    contact: Contact = Field(default_factory=Contact)
    consent: Consent = Field(default_factory=Consent)


class Diagnosis(_Strict):
    icd10: str | None = Field(
        None, max_length=10, examples=["C92.0", "C50.9", "C92.00"],
        description="WHO ICD-10 or ICD-10-CM code (with or without the dot); checked against "
                    "the code sets",
    )
    icd_o3_morphology: str | None = Field(
        None, pattern=r"^\d{4}/\d$", examples=["9861/3"],
        description="ICD-O-3 morphology with behaviour, NNNN/B",
    )
    description: str | None = Field(
        None, max_length=2000, description="Free text; classifies the case when no code is given"
    )
    stage: str | None = Field(None, max_length=50)
    diagnosed_on: date | None = Field(None, description="Date of the first diagnosis")


class FirstOpinion(_Strict):
    physician_id: str | None = Field(None, max_length=100)
    physician_name: str | None = Field(None, max_length=200)
    institution: str | None = Field(None, max_length=200)
    recommendation: str | None = Field(None, max_length=5000)
    proposed_treatments: list[Treatment] = Field(
        default_factory=list, max_length=9, description="What the first opinion proposes"
    )


class Record(_Strict):
    kind: RecordKind = Field(examples=["pathology_report"])
    uri: str = Field(min_length=1, max_length=2000)
    received_at: datetime | None = Field(
        None, description="When the submitting system received the record"
    )


class ReferringPhysician(_Strict):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None


class Submission(_Strict):
    """A second-opinion request, as sent over HTTP (`POST /v1/cases`) or Kafka."""

    source: str = Field(
        min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:\-]+$",
        description="Identifier of the submitting system",
    )
    external_id: str = Field(
        min_length=1, max_length=200,
        description="The submitting system's id; (source, external_id) names one case, ever",
    )
    patient: Patient
    diagnosis: Diagnosis
    first_opinion: FirstOpinion = Field(default_factory=FirstOpinion)
    reasons: list[Reason] = Field(
        default_factory=list, max_length=11, description="Why the patient seeks a second opinion"
    )
    questions: list[Annotated[str, StringConstraints(min_length=1, max_length=2000)]] = Field(
        default_factory=list, max_length=20,
        description="The patient's own questions, free text, one per item",
    )
    report_language: str | None = Field(
        None, min_length=2, max_length=35, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
        description="BCP 47 language the opinion should be written in", examples=["en", "hi"],
    )
    records: list[Record] = Field(default_factory=list, max_length=200)
    referring_physician: ReferringPhysician | None = None
    callback_url: str | None = Field(
        None, max_length=2000, pattern=r"^https?://",
        description="Where the submitting system wants status webhooks",
    )
    urgent: bool = Field(False, description="The submitter marks the case urgent")
    urgent_reason: str | None = Field(None, max_length=1000)
