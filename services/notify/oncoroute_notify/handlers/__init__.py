"""What notify does when an event arrives (plan deliveries) and when a delivery is due
(send it and record the outcome)."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.links import Links
from ..domain.policy import NotifyPolicy

SOURCE = "oncoroute/notify"


@dataclass(frozen=True)
class Deps:
    policy: NotifyPolicy
    links: Links
