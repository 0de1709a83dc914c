"""What notify keeps of a case and its offers: contacts, consent, language and time zone, never
the diagnosis. Built from other services' events (notify cannot read their schemas). Pure."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field

from oncoroute_shared.contracts.assignments import AssignmentOffered
from oncoroute_shared.contracts.cases import CaseOpened

from .policy import NotifyPolicy

OfferStatus = Literal["offered", "accepted", "declined", "expired", "completed", "withdrawn"]
LIVE: tuple[OfferStatus, ...] = ("offered", "accepted")


class CaseFacts(BaseModel):
    """Notify's copy of a case (its own schema). Minimum necessary: no diagnosis, no codes."""

    case_id: str
    source: str
    external_id: str
    tier: str
    tumor_group: str | None = None
    status: str
    missing_records: list[str] = Field(default_factory=list)
    patient_email: str | None = None
    patient_phone: str | None = None
    consent_email: bool = False
    consent_sms: bool = False
    language: str = "en"
    timezone: str = "UTC"
    callback_url: str | None = None
    referring_name: str | None = None
    referring_email: str | None = None
    first_opinion_name: str | None = None
    first_opinion_email: str | None = None


class Offer(BaseModel):
    assignment_id: str
    case_id: str
    seat: str
    reviewer_id: str
    reviewer_name: str
    reviewer_email: str | None = None
    reviewer_phone: str | None = None
    status: OfferStatus = "offered"


def locale_of(language: str) -> str:
    """`hi-IN` -> `hi`; templates fall back to English when a locale has none."""
    return language.split("-")[0].split("_")[0].lower() or "en"


def zone_or(name: str | None, default: str) -> str:
    if not name:
        return default
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default
    return name


def facts_from_opened(case: CaseOpened, policy: NotifyPolicy) -> CaseFacts:
    sub = case.submission
    patient, first = sub.patient, sub.first_opinion
    # The submission may not carry the first-opinion physician's address; the policy's
    # directory (by physician id) fills it in.
    first_email = getattr(first, "email", None) or (
        policy.physicians.get(first.physician_id) if first.physician_id else None)
    return CaseFacts(
        case_id=case.case_id, source=sub.source, external_id=sub.external_id,
        tier=case.classification.tier, tumor_group=case.classification.tumor_group,
        status=case.status, missing_records=list(case.missing_records),
        patient_email=patient.contact.email, patient_phone=patient.contact.phone,
        consent_email=patient.consent.email, consent_sms=patient.consent.sms,
        language=locale_of(patient.language),
        timezone=zone_or(patient.timezone, policy.default_timezone),
        callback_url=sub.callback_url,
        referring_name=sub.referring_physician.name if sub.referring_physician else None,
        referring_email=sub.referring_physician.email if sub.referring_physician else None,
        first_opinion_name=first.physician_name, first_opinion_email=first_email,
    )


def offer_from(event: AssignmentOffered) -> Offer:
    return Offer(assignment_id=event.assignment_id, case_id=event.case_id, seat=event.seat,
                 reviewer_id=event.reviewer.id, reviewer_name=event.reviewer.name,
                 reviewer_email=event.reviewer.email, reviewer_phone=event.reviewer.phone)
