"""Matcher's settings (from the environment, loaded at start)."""

from __future__ import annotations

import logging

from pydantic import Field

from oncoroute_shared import signed_links
from oncoroute_shared.settings import ServiceSettings

log = logging.getLogger("oncoroute.matcher")


class MatcherSettings(ServiceSettings):
    link_signing_secret: str | None = Field(
        None, min_length=16, description="HMAC key of accept/decline links (the same as notify)")
    link_signing_secret_previous: str | None = Field(
        None, min_length=16, description="The previous key, still accepted while rotating")

    def link_secrets(self) -> list[str]:
        if self.link_signing_secret is None:
            log.warning("LINK_SIGNING_SECRET is unset: accept/decline links use the development "
                        "secret; set it (the same value in notify) outside development")
        current = self.link_signing_secret or signed_links.DEVELOPMENT_SECRET
        return [current, *([self.link_signing_secret_previous]
                           if self.link_signing_secret_previous else [])]
