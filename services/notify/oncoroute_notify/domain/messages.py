"""Who hears what for which event: the rule, not the words (templates hold those). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oncoroute_shared.contracts.assignments import AssignmentOffered


@dataclass(frozen=True)
class Message:
    audience: str
    channel: str
    recipient: str
    template: str
    context: dict[str, Any]


def for_offer(offer: AssignmentOffered, matcher_url: str) -> list[Message]:
    if not offer.reviewer.email:
        return []
    return [Message(
        audience="specialist", channel="email", recipient=offer.reviewer.email,
        template="specialist_offer",
        context={"reviewer_name": offer.reviewer.name, "seat": offer.seat,
                 "assignment_url": f"{matcher_url}/v1/assignments/{offer.assignment_id}"},
    )]
