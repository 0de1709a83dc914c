"""Who each audience is for a case, and which of their channels we may use. Pure."""

from __future__ import annotations

from collections.abc import Callable

from .facts import LIVE, CaseFacts, Offer
from .messages import Recipient
from .policy import Channel, Contact, NotifyPolicy, Urgency


def patient(case: CaseFacts) -> list[Recipient]:
    """Only the channels the patient consented to; their quiet hours apply."""
    addresses: dict[Channel, str] = {}
    if case.consent_email and case.patient_email:
        addresses["email"] = case.patient_email
    if case.consent_sms and case.patient_phone:
        addresses["sms"] = case.patient_phone
    if not addresses:
        return []
    return [Recipient("patient", None, addresses, locale=case.language, quiet_tz=case.timezone)]


def referring_physician(case: CaseFacts) -> list[Recipient]:
    if not case.referring_email:
        return []
    return [Recipient("referring_physician", case.referring_name,
                      {"email": case.referring_email})]


def first_opinion_physician(case: CaseFacts) -> list[Recipient]:
    if not case.first_opinion_email:
        return []
    return [Recipient("first_opinion_physician", case.first_opinion_name,
                      {"email": case.first_opinion_email})]


def physicians(case: CaseFacts) -> list[Recipient]:
    """Referring and first-opinion physician (one message when they are the same address)."""
    return referring_physician(case) + first_opinion_physician(case)


def reviewers(offers: list[Offer], *, assignment_id: str | None = None,
              reviewer_id: str | None = None, seat: str | None = None,
              channels: tuple[Channel, ...] = ("email",)) -> list[Recipient]:
    """The reviewers holding live seats, narrowed to one offer, reviewer or seat if given."""
    chosen = [o for o in offers if o.status in LIVE and o.reviewer_email
              and (assignment_id is None or o.assignment_id == assignment_id)
              and (reviewer_id is None or o.reviewer_id == reviewer_id)
              and (seat is None or o.seat == seat)]
    return [specialist(o.reviewer_name, o.reviewer_email, o.reviewer_phone, channels)
            for o in chosen]


def specialist(name: str, email: str | None, phone: str | None,
               channels: tuple[Channel, ...] = ("email",)) -> Recipient:
    """Email always; SMS too when the urgency's channels include it (a page)."""
    addresses: dict[Channel, str] = {}
    if email:
        addresses["email"] = email
    if phone and "sms" in channels:
        addresses["sms"] = phone
    return Recipient("specialist", name, addresses)


def paging(policy: NotifyPolicy, urgency: Urgency) -> tuple[Channel, ...]:
    return tuple(policy.staff_channels[urgency])


def _staff(audience: str, contacts: list[Contact], policy: NotifyPolicy,
           urgency: Urgency) -> list[Recipient]:
    """PagerDuty-style: the urgency decides the channels (high pages by SMS too)."""
    out = []
    for c in contacts:
        addresses: dict[Channel, str] = {}
        for channel in policy.staff_channels[urgency]:
            value = c.email if channel == "email" else c.phone
            if value:
                addresses[channel] = str(value)
        if addresses:
            out.append(Recipient(audience, c.name, addresses))  # type: ignore[arg-type]
    return out


def tumor_group_leads(case: CaseFacts, policy: NotifyPolicy, urgency: Urgency) -> list[Recipient]:
    return _staff("tumor_group_lead", policy.leads(case.tumor_group), policy, urgency)


def operators(policy: NotifyPolicy, urgency: Urgency) -> list[Recipient]:
    return _staff("operators_on_call", policy.operators_on_call, policy, urgency)


def submitting_system(case: CaseFacts) -> list[Recipient]:
    if not case.callback_url:
        return []
    return [Recipient("submitting_system", case.source, {"webhook": case.callback_url})]


# The audience names the sla policy may use on a step, and who each is.
StepAudience = Callable[[CaseFacts, list[Offer], NotifyPolicy, Urgency, dict[str, str | None]],
                        list[Recipient]]
STEP_AUDIENCES: dict[str, StepAudience] = {
    "reviewers": lambda case, offers, policy, urgency, narrow:
        reviewers(offers, **narrow, channels=paging(policy, urgency)),
    "tumor_group_lead": lambda case, offers, policy, urgency, narrow:
        tumor_group_leads(case, policy, urgency),
    "operators_on_call": lambda case, offers, policy, urgency, narrow: operators(policy, urgency),
    "referring_physician": lambda case, offers, policy, urgency, narrow:
        referring_physician(case),
}
