"""A message to plan: who, on which channel, with which template and words' context. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .policy import Channel, Urgency

Audience = Literal[
    "patient", "referring_physician", "first_opinion_physician", "specialist",
    "tumor_group_lead", "operators_on_call", "submitting_system",
]


@dataclass(frozen=True)
class Recipient:
    """One person or system and the addresses of the channels we may use for them."""

    audience: Audience
    name: str | None
    addresses: dict[Channel, str]
    locale: str = "en"
    quiet_tz: str | None = None  # set for patients: their quiet hours apply


@dataclass(frozen=True)
class Message:
    audience: Audience
    channel: Channel
    recipient: str
    template: str
    context: dict[str, Any]
    urgency: Urgency = "low"
    locale: str = "en"
    quiet_tz: str | None = None
    once_per: str | None = None  # sent once per this key instead of once per event


@dataclass(frozen=True)
class Words:
    """A template and its context, before it is addressed to recipients."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    urgency: Urgency = "low"
    once_per: str | None = None


def address(words: Words, recipients: list[Recipient]) -> list[Message]:
    """One message per recipient and usable channel; the same address is written to once."""
    seen: set[tuple[str, str]] = set()
    out: list[Message] = []
    for r in recipients:
        for channel, addr in r.addresses.items():
            if (channel, addr.lower()) in seen:
                continue
            seen.add((channel, addr.lower()))
            out.append(Message(
                audience=r.audience, channel=channel, recipient=addr, template=words.template,
                context={**words.context, "recipient_name": r.name,
                         "urgent": words.urgency == "high"},
                urgency=words.urgency,
                locale=r.locale, quiet_tz=r.quiet_tz, once_per=words.once_per,
            ))
    return out
