"""`oncoroute notify preview TEMPLATE --event FILE.json`: render one template for review,
exactly as notify would for that event (no database, no broker, nothing sent)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from oncoroute_shared import policy as policy_file
from oncoroute_shared import signed_links
from oncoroute_shared.contracts.cases import CaseOpened
from oncoroute_shared.contracts.registry import EVENTS, model_for, short_type
from oncoroute_shared.settings import load

from .. import samples
from ..adapters.templates import Renderer
from ..bootstrap import validate_policy
from ..domain import rules
from ..domain.facts import CaseFacts, Offer, facts_from_opened
from ..domain.links import Links
from ..domain.policy import NotifyPolicy
from ..settings import NotifySettings


def _event(path: Path) -> tuple[str, Any, str, datetime]:
    """A CloudEvent as on the topic, or {"type": "case.opened", "data": {...}}."""
    doc = json.loads(path.read_text())
    kind = short_type(doc.get("type", "")) or doc.get("type", "")
    if kind not in EVENTS:
        raise ValueError(f"unknown event type {doc.get('type')!r}")
    data = model_for(kind).model_validate(doc.get("data"))
    at = datetime.fromisoformat(doc["time"]) if "time" in doc else datetime.now(UTC)
    return kind, data, str(doc.get("id", "preview")), at


def _policy() -> NotifyPolicy:
    settings = load(NotifySettings)
    policy = validate_policy(policy_file.load_document(settings.oncoroute_policy))
    if policy.operators_on_call and policy.tumor_group_leads:
        return policy
    # So staff templates can be previewed on a policy that names nobody yet.
    sample = NotifyPolicy.model_validate(samples.policy_doc())
    return policy.model_copy(update={"tumor_group_leads": sample.tumor_group_leads,
                                     "operators_on_call": sample.operators_on_call})


def _case(kind: str, data: Any, case_file: str | None, policy: NotifyPolicy) -> CaseFacts:
    if kind == "case.opened":
        return facts_from_opened(data, policy)
    if case_file:
        _, opened, _, _ = _event(Path(case_file))
        if not isinstance(opened, CaseOpened):
            raise ValueError("--case must be a case.opened event")
        return facts_from_opened(opened, policy)
    sample = CaseOpened.model_validate(samples.datas(data.case_id)["case.opened"])
    return facts_from_opened(sample, policy)


def preview(args: argparse.Namespace) -> int:
    try:
        kind, data, event_id, at = _event(Path(args.event))
        policy = _policy()
        case = _case(kind, data, args.case, policy)
    except (OSError, ValueError, ValidationError) as exc:
        print(f"cannot preview: {exc}", file=sys.stderr)
        return 2
    settings = load(NotifySettings)
    links = Links(settings.portal_url, settings.matcher_public_url,
                  settings.link_signing_secret or signed_links.DEVELOPMENT_SECRET, policy.link_ttl)
    offer = Offer.model_validate({**samples.datas(data.case_id)["assignment.offered"],
                                  "reviewer_id": "sp-001", "reviewer_name": "Dr Asha Rao",
                                  "reviewer_email": "asha.rao@example.org"})
    messages = rules.plan_messages(kind, data, case, [offer],
                                   rules.Plan(policy, links, event_id, at))
    chosen = [m for m in messages if m.template == args.template
              and args.channel in (None, m.channel)]
    if not chosen:
        made = sorted({f"{m.template} ({m.channel})" for m in messages}) or ["nothing"]
        print(f"{kind} does not produce {args.template}"
              f"{' on ' + args.channel if args.channel else ''}; it produces: "
              + ", ".join(made), file=sys.stderr)
        return 2
    renderer = Renderer()
    for m in {(m.channel, m.audience): m for m in chosen}.values():
        out = renderer.render(delivery_id="preview", recipient=m.recipient, template=m.template,
                              channel=m.channel, locale=args.locale or m.locale,
                              context=m.context)
        print(f"=== {m.template} | {m.channel} | {m.audience} | {args.locale or m.locale}")
        if out.subject is not None:
            print(f"Subject: {out.subject}\n")
        if out.payload is not None:
            print(json.dumps(out.payload, indent=2))
        else:
            print(out.text)
        if out.html and args.html:
            print("--- html\n" + out.html)
    return 0
