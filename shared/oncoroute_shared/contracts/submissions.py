"""`case.submitted` on `case-submissions`: what external intake systems send (v1)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

Sex = Literal["female", "male", "other", "unknown"]


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
    icd10: str | None = Field(None, max_length=10, examples=["C92.0", "C50.9"])
    icd_o3_morphology: str | None = Field(None, pattern=r"^\d{4}/\d$", examples=["9861/3"])
    description: str | None = Field(None, max_length=2000)
    stage: str | None = Field(None, max_length=50)


class FirstOpinion(_Strict):
    physician_id: str | None = Field(None, max_length=100)
    physician_name: str | None = Field(None, max_length=200)
    institution: str | None = Field(None, max_length=200)
    recommendation: str | None = Field(None, max_length=5000)


class Record(_Strict):
    kind: str = Field(min_length=1, max_length=50, examples=["pathology_report"])
    uri: str = Field(min_length=1, max_length=2000)


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
    reasons: list[str] = Field(default_factory=list, max_length=20)
    records: list[Record] = Field(default_factory=list, max_length=200)
    referring_physician: ReferringPhysician | None = None
    callback_url: str | None = Field(
        None, max_length=2000, pattern=r"^https?://",
        description="Where the submitting system wants status webhooks",
    )
    urgent: bool = Field(False, description="The submitter marks the case urgent")
    urgent_reason: str | None = Field(None, max_length=1000)
