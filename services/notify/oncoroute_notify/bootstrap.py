"""Notify's composition root."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from oncoroute_shared import signed_links
from oncoroute_shared.policy import section
from oncoroute_shared.runtime import Runtime, ServiceParts, ServiceSpec

from .domain.links import Links
from .domain.policy import NotifyPolicy
from .entrypoints import http, kafka, worker
from .handlers import Deps
from .settings import NotifySettings

log = logging.getLogger("oncoroute.notify")
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def validate_policy(doc: dict[str, Any]) -> NotifyPolicy:
    return section(doc, "notify", NotifyPolicy)


def deps(settings: NotifySettings, doc: dict[str, Any]) -> Deps:
    policy = validate_policy(doc).scaled(settings.oncoroute_time_scale)
    secret = settings.link_signing_secret
    if secret is None:
        log.warning("LINK_SIGNING_SECRET is unset: accept/decline links use the development "
                    "secret; set it (the same value in matcher) outside development")
        secret = signed_links.DEVELOPMENT_SECRET
    links = Links(portal_url=settings.portal_url, matcher_url=settings.matcher_public_url,
                  secret=secret, ttl=policy.link_ttl)
    return Deps(policy=policy, links=links)


def build(runtime: Runtime) -> ServiceParts:
    runtime.on_start(lambda: runtime.state.update(deps=deps(runtime.settings, runtime.policy)))
    return ServiceParts(subscriptions=kafka.subscriptions(runtime),
                        routers=[http.router(runtime)],
                        loops=[worker.delivery_loop(runtime)])


SPEC = ServiceSpec(
    name="notify",
    title="Tells patients, physicians, specialists and operators what they need to know",
    default_port=8084,
    migrations=MIGRATIONS_DIR,
    build=build,
    settings_cls=NotifySettings,
    validate_policy=validate_policy,
)
