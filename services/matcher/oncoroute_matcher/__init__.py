"""OncoRoute matcher: assigns the right reviewers to each case."""

from __future__ import annotations

import argparse


def register_cli(sub: argparse._SubParsersAction) -> None:
    """`oncoroute specialists import FILE | list` (implementation imported on use)."""
    from importlib import import_module

    specialists = sub.add_parser("specialists", help="manage the specialist roster")
    verbs = specialists.add_subparsers(dest="verb", required=True)
    imp = verbs.add_parser("import", help="import a roster CSV (all or nothing)")
    imp.add_argument("file")
    imp.set_defaults(func=lambda a: import_module("oncoroute_matcher.entrypoints.cli").import_(a))
    lst = verbs.add_parser("list", help="list the roster with current load")
    lst.set_defaults(func=lambda a: import_module("oncoroute_matcher.entrypoints.cli").list_(a))
