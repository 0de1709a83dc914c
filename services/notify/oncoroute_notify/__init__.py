"""OncoRoute notify: tells each person what they need to know, exactly once."""

from __future__ import annotations

import argparse


def register_cli(sub: argparse._SubParsersAction) -> None:
    """`oncoroute notify preview TEMPLATE --event FILE.json` (implementation imported on use)."""
    from importlib import import_module

    notify = sub.add_parser("notify", help="notification tools")
    verbs = notify.add_subparsers(dest="verb", required=True)
    pre = verbs.add_parser("preview", help="render a template for an event, as notify would")
    pre.add_argument("template", help="e.g. patient_opinion_ready, specialist_offer")
    pre.add_argument("--event", required=True, help="a CloudEvent JSON file (as on the topic)")
    pre.add_argument("--case", help="the case.opened event of the case (else an example case)")
    pre.add_argument("--locale", help="render in this locale (default: the recipient's)")
    pre.add_argument("--channel", choices=["email", "sms", "webhook"])
    pre.add_argument("--html", action="store_true", help="print the HTML part too")
    pre.set_defaults(func=lambda a: import_module("oncoroute_notify.entrypoints.cli").preview(a))
