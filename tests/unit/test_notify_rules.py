"""Who hears what, on which channel, for each event (notify's rules, pure)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from oncoroute_notify import samples
from oncoroute_notify.domain import rules
from oncoroute_notify.domain.facts import CaseFacts, Offer, facts_from_opened, offer_from
from oncoroute_notify.domain.links import Links
from oncoroute_notify.domain.messages import Message
from oncoroute_notify.domain.policy import NotifyPolicy
from oncoroute_shared import signed_links
from oncoroute_shared.contracts.assignments import AssignmentChanged, AssignmentOffered
from oncoroute_shared.contracts.cases import CaseOpened
from oncoroute_shared.contracts.registry import model_for

pytestmark = pytest.mark.unit
SECRET = "unit-test-link-secret-0123456789"
POLICY = NotifyPolicy.model_validate(
    {**samples.policy_doc(), "physicians": {"GMC-1234567": "a.smith@example.org"}})
LINKS = Links("https://portal.example.org", "https://matcher.example.org", SECRET,
              timedelta(hours=72))


def opened(**overrides: Any) -> CaseOpened:
    doc = samples.datas()["case.opened"]
    doc = {**doc, "submission": samples.submission(**overrides)}
    return CaseOpened.model_validate(doc)


def case(**overrides: Any) -> CaseFacts:
    return facts_from_opened(opened(**overrides), POLICY)


def offers(*statuses: str) -> list[Offer]:
    base = offer_from(AssignmentOffered.model_validate(samples.datas()["assignment.offered"]))
    return [base.model_copy(update={"assignment_id": f"as-{i}", "status": s,
                                    "reviewer_id": f"sp-{i}",
                                    "reviewer_email": f"rev{i}@example.org"})
            for i, s in enumerate(statuses)]


def plan(kind: str, data: dict[str, Any] | None = None, facts: CaseFacts | None = None,
         held: list[Offer] | None = None) -> list[Message]:
    model = model_for(kind).model_validate(data or samples.datas()[kind])
    return rules.plan_messages(kind, model, facts or case(), held or [],
                               rules.Plan(POLICY, LINKS, "ev-1", samples.AT))


def sent(messages: list[Message]) -> set[tuple[str, str, str, str]]:
    return {(m.audience, m.channel, m.recipient, m.template) for m in messages}


def test_case_opened_tells_patient_physicians_and_submitting_system() -> None:
    assert sent(plan("case.opened")) == {
        ("patient", "email", "patient@example.org", "patient_request_received"),
        ("patient", "sms", "+44 7700 900123", "patient_request_received"),
        ("referring_physician", "email", "b.jones@example.org", "physician_case_received"),
        ("first_opinion_physician", "email", "a.smith@example.org", "physician_case_received"),
        ("submitting_system", "webhook", "https://his.example.org/oncoroute/callback",
         "case_status_webhook"),
    }


def test_patient_channels_follow_consent() -> None:
    patient = {**samples.submission()["patient"], "consent": {"email": False, "sms": True}}
    messages = plan("case.opened", facts=case(patient=patient))
    assert {m.channel for m in messages if m.audience == "patient"} == {"sms"}
    patient = {**patient, "consent": {"email": False, "sms": False}}
    assert not [m for m in plan("case.opened", facts=case(patient=patient))
                if m.audience == "patient"]


def test_patient_messages_carry_language_and_quiet_hours_zone() -> None:
    patient = {**samples.submission()["patient"], "language": "hi-IN",
               "timezone": "Asia/Kolkata"}
    message = next(m for m in plan("case.opened", facts=case(patient=patient))
                   if m.audience == "patient")
    assert (message.locale, message.quiet_tz) == ("hi", "Asia/Kolkata")
    bad_zone = {**patient, "timezone": "Mars/Olympus"}
    message = next(m for m in plan("case.opened", facts=case(patient=bad_zone))
                   if m.audience == "patient")
    assert message.quiet_tz == POLICY.default_timezone


def test_same_physician_address_is_written_to_once() -> None:
    facts = case(referring_physician={"name": "Dr A Smith", "email": "A.Smith@example.org"})
    physicians = [m for m in plan("case.opened", facts=facts) if "physician" in m.audience]
    assert len(physicians) == 1


def test_offer_carries_signed_expiring_accept_and_decline_links() -> None:
    messages = plan("assignment.offered")
    # a fast-progressing case: high urgency, so the specialist is paged by SMS as well
    assert {(m.channel, m.recipient) for m in messages} == {
        ("email", "asha.rao@example.org"), ("sms", "+91 98200 00001")}
    message = next(m for m in messages if m.channel == "email")
    assert message.urgency == "high"  # a fast-progressing case
    token = message.context["accept_url"].split("token=")[1]
    claims = signed_links.verify(SECRET, token, now=samples.AT, action="accept",
                                 assignment_id=samples.ASSIGNMENT_ID)
    assert claims.reviewer_id == "sp-001"
    assert claims.expires_at == samples.AT + timedelta(hours=72)
    decline = message.context["decline_url"]
    assert decline.startswith(f"https://matcher.example.org/v1/assignments/"
                              f"{samples.ASSIGNMENT_ID}/decline?token=")
    with pytest.raises(signed_links.InvalidLink, match="expired"):
        signed_links.verify(SECRET, token, now=samples.AT + timedelta(hours=73))


def test_accepted_tells_patient_and_submitting_system() -> None:
    assert sent(plan("assignment.accepted")) == {
        ("patient", "email", "patient@example.org", "patient_reviewer_assigned"),
        ("patient", "sms", "+44 7700 900123", "patient_reviewer_assigned"),
        ("submitting_system", "webhook", "https://his.example.org/oncoroute/callback",
         "case_status_webhook"),
    }


def test_opinion_ready_gives_physicians_the_concordance_and_others_a_link() -> None:
    messages = plan("case.opinion_ready")
    physician = next(m for m in messages if m.audience == "referring_physician")
    assert physician.context["outcomes"] == [{
        "seat": "disease_specialist", "diagnosis": "refined", "treatment_plan": "modified",
        "report_uri": "https://portal.example.org/reports/r-77"}]
    patient = [m for m in messages if m.audience == "patient"]
    assert patient and all("outcomes" not in m.context for m in patient)
    hook = next(m for m in messages if m.channel == "webhook")
    assert hook.context["payload"]["status"] == "opinion_ready"


def test_expedite_pages_leads_and_operators_on_every_channel() -> None:
    held = offers("accepted")
    messages = plan("sla.escalated", held=held)
    staff = {(m.audience, m.channel) for m in messages if m.template == "staff_sla_escalated"}
    assert staff == {("tumor_group_lead", "email"), ("tumor_group_lead", "sms"),
                     ("operators_on_call", "email"), ("operators_on_call", "sms")}
    assert all(m.urgency == "high" for m in messages)
    assert {m.recipient for m in messages if m.audience == "specialist"} == {
        "rev0@example.org", "+91 98200 00001"}


def test_specialists_are_paged_by_sms_only_when_urgent() -> None:
    standard = case().model_copy(update={"tier": "standard"})
    data = {**samples.datas()["sla.warning"], "tier": "standard"}
    assert {m.channel for m in plan("sla.warning", data, facts=standard,
                                    held=offers("accepted"))} == {"email"}
    offered = {**samples.datas()["assignment.offered"], "tier": "standard"}
    assert {m.channel for m in plan("assignment.offered", offered)} == {"email"}


def test_low_urgency_escalation_is_email_only() -> None:
    facts = case().model_copy(update={"tier": "standard"})
    data = {**samples.datas()["sla.escalated"], "tier": "standard", "level": "1",
            "audience": ["tumor_group_lead"]}
    messages = plan("sla.escalated", data, facts=facts)
    assert {(m.channel, m.urgency) for m in messages} == {("email", "low")}


def test_reminders_go_to_live_seats_only_and_can_name_one_offer() -> None:
    held = offers("offered", "accepted", "declined", "expired")
    emails = [m for m in plan("sla.warning", held=held) if m.channel == "email"]
    assert {m.recipient for m in emails} == {"rev0@example.org", "rev1@example.org"}
    data = {**samples.datas()["sla.warning"], "assignment_id": "as-1"}
    assert [m.recipient for m in plan("sla.warning", data, held=held)
            if m.channel == "email"] == ["rev1@example.org"]


def test_withdrawal_on_case_closed_and_on_offer_expiry() -> None:
    held = offers("offered", "accepted", "declined")
    closed = plan("case.closed", held=held)
    assert {m.recipient for m in closed if m.template == "specialist_withdrawal"} == {
        "rev0@example.org", "rev1@example.org"}
    assert next(m for m in closed if m.channel == "webhook").context["payload"]["reason"] == \
        "withdrawn"
    completed = plan("case.closed", {"case_id": samples.CASE_ID, "reason": "completed"},
                     held=held)
    assert {m.template for m in completed} == {"case_status_webhook"}
    expired = plan("assignment.expired", {**samples.datas()["assignment.expired"],
                                          "assignment_id": "as-0"}, held=held)
    assert [(m.recipient, m.context["reason"]) for m in expired] == [
        ("rev0@example.org", "expired")]


def test_unmatched_alerts_leads_and_operators() -> None:
    audiences = {m.audience for m in plan("case.unmatched")}
    assert audiences == {"tumor_group_lead", "operators_on_call"}


def test_group_lead_is_the_groups_own_before_the_default() -> None:
    policy = POLICY.model_copy(update={"tumor_group_leads": {
        **POLICY.tumor_group_leads,
        "haematologic": POLICY.operators_on_call}})
    assert [c.name for c in policy.leads("haematologic")] == ["Operator"]
    assert [c.name for c in policy.leads("breast")] == ["Dr Lead"]


def test_records_reminder_goes_to_the_referring_physician() -> None:
    messages = plan("sla.warning", samples.records_reminder())
    assert sent(messages) == {("referring_physician", "email", "b.jones@example.org",
                               "physician_records_reminder")}


def test_acceptance_expired_is_not_a_second_message_to_the_reviewer() -> None:
    data = {**samples.datas()["sla.acceptance_expired"], "audience": ["reviewers"]}
    assert plan("sla.acceptance_expired", data, held=offers("offered")) == []


def test_status_update_without_change_sends_nothing() -> None:
    facts = case().model_copy(update={"status": "ready", "missing_records": []})
    assert plan("case.updated", facts=facts) == []
    assert {m.context["payload"]["status"] for m in plan("case.updated")} == {"ready"}


def test_a_failed_delivery_alerts_operators_but_a_failed_alert_does_not() -> None:
    failed = {"case_id": samples.CASE_ID, "delivery_id": "d-1", "channel": "email",
              "audience": "patient", "template": "patient_opinion_ready", "urgency": "low",
              "error": "permanent: smtp 550"}
    alerts = rules.delivery_failed(failed, POLICY, LINKS)
    assert {(m.audience, m.channel) for m in alerts} == {("operators_on_call", "email")}
    assert rules.delivery_failed({**failed, "template": "staff_delivery_failed"}, POLICY,
                                 LINKS) == []


def test_one_withdrawal_per_offer_whichever_event_says_so_first() -> None:
    held = offers("accepted")
    closed = [m for m in plan("case.closed", held=held) if m.template == "specialist_withdrawal"]
    released = rules.assignment_released(
        AssignmentChanged(assignment_id="as-0", case_id=samples.CASE_ID,
                          seat="disease_specialist", reviewer_id="sp-0", at=samples.AT),
        None, held, rules.Plan(POLICY, LINKS, "ev-2", samples.AT))
    assert [m.context["reason"] for m in released] == ["released"]
    assert closed[0].once_per == released[0].once_per == "withdrawal:as-0"
