"""OncoRoute matcher: assigns the right reviewers to each case."""

from __future__ import annotations

import argparse


def register_cli(sub: argparse._SubParsersAction) -> None:
    """`oncoroute specialists import FILE | list | token` (implementation imported on use)."""
    from importlib import import_module

    def cli(name: str):  # type: ignore[no-untyped-def]
        return lambda a: getattr(import_module("oncoroute_matcher.entrypoints.cli"), name)(a)

    specialists = sub.add_parser("specialists", help="manage the specialist roster")
    verbs = specialists.add_subparsers(dest="verb", required=True)
    imp = verbs.add_parser("import", help="import a roster, CSV or YAML (all or nothing)")
    imp.add_argument("file", help="roster.csv, or roster.yaml for the full shape")
    imp.set_defaults(func=cli("import_"))
    lst = verbs.add_parser("list", help="list the roster with current load")
    lst.set_defaults(func=cli("list_"))
    tok = verbs.add_parser("token", help="issue an API token (printed once; only its hash "
                                         "is kept); a specialist's earlier token stops working")
    tok.add_argument("id", nargs="?", help="the specialist's id")
    tok.add_argument("--operator", action="store_true", help="an operator token instead")
    tok.add_argument("--label", default=None, help="a note kept with the token")
    tok.set_defaults(func=cli("token"))
