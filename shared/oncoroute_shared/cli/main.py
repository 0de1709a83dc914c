"""`oncoroute up | run SERVICE | specialists ...`: one command for the whole system."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

from ..embedded.stack import DEFAULT_PORTS, SERVICES


def load_spec(service: str) -> Any:
    return importlib.import_module(f"oncoroute_{service}.bootstrap").SPEC


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    from ..runtime import create_app

    spec = load_spec(args.service)
    port = args.port or int(os.environ.get(f"{args.service.upper()}_PORT", spec.default_port))
    host = os.environ.get("HTTP_HOST", "127.0.0.1")
    app = create_app(spec)
    config = uvicorn.Config(app, host=host, port=port, log_config=None,
                            access_log=False, lifespan="on", timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    # Long-lived responses (sla's board stream) end themselves once the server is stopping,
    # instead of holding the graceful shutdown for its whole timeout.
    app.state.stopping = lambda: server.should_exit
    server.run()
    return 0 if server.started else 1


def _operator_token(args: argparse.Namespace) -> int:
    from ..operator_access import new_token

    token, digest = new_token()
    print(token)
    print(f"OPERATOR_TOKEN_HASHES={digest}  (set on sla and notify; the token is not kept)",
          file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oncoroute", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start the whole system (embedded broker and database "
                                   "unless KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL are set)")
    up.add_argument("--demo", action="store_true", help="load a demo roster and feed cases")
    up.add_argument("--demo-rate", type=float, default=0.5, help="demo submissions per second")
    up.set_defaults(func=lambda a: importlib.import_module("oncoroute_shared.cli.up").up(a))

    run = sub.add_parser("run", help="run one service (what a container runs)")
    run.add_argument("service", choices=SERVICES)
    run.add_argument("--port", type=int, default=None,
                     help=f"HTTP port (defaults: {DEFAULT_PORTS})")
    run.set_defaults(func=_run)
    importlib.import_module("oncoroute_shared.cli.feed").register(sub)  # demo-feed
    importlib.import_module("oncoroute_shared.cli.outbox").register(sub)
    token = sub.add_parser("operator-token", help="issue an operator token for the sla and "
                                                  "notify APIs: the token on stdout, the digest "
                                                  "to add to OPERATOR_TOKEN_HASHES on stderr")
    token.set_defaults(func=_operator_token)

    for service in SERVICES:
        module = importlib.import_module(f"oncoroute_{service}")
        register = getattr(module, "register_cli", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    sys.exit(args.func(args) or 0)


if __name__ == "__main__":
    main()
