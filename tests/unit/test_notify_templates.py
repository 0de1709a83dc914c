"""Every template renders for every event it serves, in every locale and channel; HTML is
escaped; no SMS, subject or webhook payload carries a diagnosis, cancer type, name or opinion."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncoroute_notify import samples
from oncoroute_notify.adapters.templates import PARTS, TEMPLATES, Renderer
from oncoroute_notify.domain import rules
from oncoroute_notify.domain.facts import Offer, facts_from_opened
from oncoroute_notify.domain.links import Links
from oncoroute_notify.domain.messages import Message
from oncoroute_notify.domain.policy import NotifyPolicy
from oncoroute_shared.contracts.cases import CaseOpened
from oncoroute_shared.contracts.registry import model_for

pytestmark = pytest.mark.unit
POLICY = NotifyPolicy.model_validate(samples.policy_doc())
LINKS = Links("https://portal.example.org", "https://matcher.example.org", "s" * 32,
              timedelta(hours=72))
RENDERER = Renderer()
LOCALES = ("en", "hi", "fr")  # fr has no files: falls back to English
# Words and codes that would reveal a diagnosis, a cancer type or an opinion's content.
CLINICAL = re.compile(
    r"cancer|carcinom|leuk|lymphom|myelom|sarcom|melanom|tumou?r|malignan|metasta|onco|"
    r"neoplas|chemo|haemato|hemato|breast|lung|ovar|prostat|\bAML\b|"
    r"diagnos|confirmed|refined|(?<!status_)changed|agreed|modified|alternative|"
    r"\b[C-D]\d{2}(\.\d+)?\b|\b\d{4}/\d\b|कैंसर|निदान", re.IGNORECASE)


def everything(case_doc: dict[str, Any] | None = None) -> list[Message]:
    """Every message every handled event produces for one case."""
    opened = CaseOpened.model_validate(case_doc or samples.datas()["case.opened"])
    case = facts_from_opened(opened, POLICY)
    held = [Offer(assignment_id=samples.ASSIGNMENT_ID, case_id=case.case_id,
                  seat="disease_specialist", reviewer_id="sp-001",
                  reviewer_name="Dr Asha Rao", reviewer_email="asha.rao@example.org",
                  reviewer_phone="+91 98200 00001",
                  status="accepted")]
    events = {**samples.datas(case.case_id),
              "sla.warning#records": samples.records_reminder(case.case_id),
              "sla.warning#staff": {**samples.datas(case.case_id)["sla.warning"],
                                    "audience": ["tumor_group_lead", "operators_on_call"]}}
    messages: list[Message] = []
    plan = rules.Plan(POLICY, LINKS, "ev-1", samples.AT)
    for key, data in events.items():
        kind = key.split("#")[0]
        model = model_for(kind).model_validate(data)
        messages += rules.plan_messages(kind, model, case, held, plan)
    failed = {"case_id": case.case_id, "delivery_id": "d-1", "channel": "sms",
              "audience": "patient", "template": "patient_opinion_ready", "urgency": "high",
              "error": "permanent: sms gateway answered 400"}
    return messages + rules.delivery_failed(failed, POLICY, LINKS)


def render_all(message: Message, locale: str) -> Any:
    return RENDERER.render(delivery_id="d-1", recipient=message.recipient,
                           template=message.template, channel=message.channel, locale=locale,
                           context=message.context)


def test_every_template_renders_for_every_event_it_serves() -> None:
    rendered = 0
    for message in everything():
        for locale in LOCALES:
            out = render_all(message, locale)
            if message.channel == "webhook":
                assert out.payload["case_id"] == samples.CASE_ID
                continue
            assert out.text.strip()
            if message.channel == "email":
                assert out.subject and out.html and out.html.lstrip().startswith("<!doctype")
            rendered += 1
    assert rendered > 80


def test_every_template_file_is_used_and_complete() -> None:
    catalogue = RENDERER.catalogue()
    used = {(m.template, m.channel) for m in everything() if m.channel != "webhook"}
    # every file on disk serves some event ...
    assert {(t, c) for t, c in catalogue} == used
    # ... has every part in English, and each locale has a whole set of parts
    for (template, channel), locales in catalogue.items():
        assert "en" in locales, f"{template}.{channel} has no English"
        for locale in locales:
            for part in PARTS[channel]:
                path = RENDERER.root / locale / f"{template}.{channel}.{part}.j2"
                assert path.exists(), f"missing {path.name} in {locale}"


def test_patient_templates_exist_in_hindi() -> None:
    for (template, _channel), locales in RENDERER.catalogue().items():
        if template.startswith("patient_"):
            assert "hi" in locales, template
    hindi = render_all(next(m for m in everything() if m.template == "patient_opinion_ready"
                            and m.channel == "email"), "hi")
    assert "दूसरी राय" in (hindi.subject or "")
    assert 'lang="hi"' in (hindi.html or "")


def test_a_template_is_read_once_then_rendered_without_the_disk(tmp_path: Path) -> None:
    shutil.copytree(TEMPLATES, tmp_path / "templates")
    renderer = Renderer(tmp_path / "templates")
    message = next(m for m in everything() if m.template == "specialist_offer"
                   and m.channel == "email")

    def render(locale: str) -> Any:
        return renderer.render(delivery_id="d-1", recipient=message.recipient,
                               template=message.template, channel="email", locale=locale,
                               context=message.context)

    first = {locale: render(locale) for locale in ("en", "fr", "en-GB")}
    shutil.rmtree(tmp_path / "templates")  # no file, and no base template, left to look at
    assert {locale: render(locale) for locale in ("en", "fr", "en-GB")} == first
    assert first["fr"] == first["en"]  # a locale without files falls back to English


def test_html_is_escaped_and_text_is_not() -> None:
    message = next(m for m in everything() if m.template == "specialist_offer")
    evil = Message(**{**message.__dict__,
                      "context": {**message.context, "recipient_name": "<script>x</script>"}})
    out = render_all(evil, "en")
    assert "<script>" not in (out.html or "") and "&lt;script&gt;" in (out.html or "")
    assert "<script>x</script>" in out.text


def test_staff_email_bodies_may_name_the_group_but_subjects_and_sms_may_not() -> None:
    staff = [m for m in everything() if m.template == "staff_case_unmatched"]
    email = render_all(next(m for m in staff if m.channel == "email"), "en")
    assert "haematologic" in email.text
    assert not CLINICAL.search(email.subject or "")
    assert not CLINICAL.search(render_all(next(m for m in staff if m.channel == "sms"),
                                          "en").text)


def _leaks(case_doc: dict[str, Any]) -> list[str]:
    found = []
    for message in everything(case_doc):
        for locale in ("en", "hi"):
            out = render_all(message, locale)
            public = {"sms": [out.text], "email": [out.subject or ""],
                      "webhook": [str(out.payload)]}[message.channel]
            for text in public:
                if CLINICAL.search(text) or "MRN-" in text or "Dr A Smith" in text:
                    found.append(f"{message.template}/{message.channel}/{locale}: {text}")
    return found


def test_no_sms_subject_or_webhook_carries_clinical_words_or_codes() -> None:
    assert _leaks(samples.datas()["case.opened"]) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(icd10=st.sampled_from(["C50.9", "C34.1", "C92.0", "C61", "D05.1"]),
       description=st.sampled_from(["Invasive ductal carcinoma", "Small cell lung cancer",
                                    "Acute myeloid leukaemia", "Prostate adenocarcinoma"]),
       tier=st.sampled_from(["standard", "fast_progressing"]),
       group=st.sampled_from(["breast", "thoracic", "haematologic", "genitourinary", None]),
       missing=st.lists(st.sampled_from(["pathology_report", "pathology_slides", "imaging",
                                         "genomic_report"]), max_size=3, unique=True))
def test_no_diagnosis_leaks_whatever_the_case(icd10: str, description: str, tier: str,
                                              group: str | None, missing: list[str]) -> None:
    doc = samples.datas()["case.opened"]
    doc = {**doc, "missing_records": missing,
           "classification": {**doc["classification"], "tier": tier, "tumor_group": group},
           "submission": samples.submission(diagnosis={"icd10": icd10, "description": description,
                                                       "icd_o3_morphology": "8500/3"})}
    assert _leaks(doc) == []
