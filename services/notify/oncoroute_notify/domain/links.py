"""Links in messages: where an authorised person reads a case, and signed accept/decline
links for specialists (verified by the matcher with `oncoroute_shared.signed_links`). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from oncoroute_shared import signed_links
from oncoroute_shared.signed_links import LinkClaims


@dataclass(frozen=True)
class Links:
    portal_url: str
    matcher_url: str
    secret: str
    ttl: timedelta

    def case(self, case_id: str) -> str:
        return f"{self.portal_url.rstrip('/')}/cases/{case_id}"

    def records(self, case_id: str) -> str:
        return f"{self.case(case_id)}/records"

    def assignment(self, assignment_id: str) -> str:
        return f"{self.matcher_url.rstrip('/')}/v1/assignments/{assignment_id}"

    def offer(self, assignment_id: str, reviewer_id: str,
              offered_at: datetime) -> tuple[str, str, datetime]:
        """Accept and decline links, expiring `ttl` after the offer (stable per offer)."""
        expires = offered_at + self.ttl
        accept, decline = (
            signed_links.link(self.matcher_url, self.secret,
                              LinkClaims(assignment_id, reviewer_id, action, expires))
            for action in signed_links.ACTIONS
        )
        return accept, decline, expires
