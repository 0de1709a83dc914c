"""OncoRoute intake: takes second-opinion requests, classifies them and opens cases."""

from __future__ import annotations

import argparse


def register_cli(sub: argparse._SubParsersAction) -> None:
    """`oncoroute keys create | revoke | list` (implementation imported on use)."""
    from importlib import import_module

    def run(verb: str):  # type: ignore[no-untyped-def]
        return lambda a: getattr(import_module("oncoroute_intake.entrypoints.cli"), verb)(a)

    keys = sub.add_parser("keys", help="API keys of submitting systems and operators")
    verbs = keys.add_subparsers(dest="verb", required=True)
    create = verbs.add_parser("create", help="create a key; prints it once on stdout")
    create.add_argument("--source", help="the submitting system this key submits for")
    create.add_argument("--operator", action="store_true",
                        help="an operator key: reads and acts on every case, any source")
    create.add_argument("--name", help="a label (default: the source)")
    create.add_argument("--rotate", action="store_true",
                        help="revoke the active keys with the same name first")
    create.set_defaults(func=run("create"))
    revoke = verbs.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=run("revoke"))
    lst = verbs.add_parser("list", help="list keys (never the keys themselves)")
    lst.set_defaults(func=run("list_"))
