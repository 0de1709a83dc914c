"""`oncoroute demo-feed`: synthetic cases sent to a running intake over HTTP.

For a system that is already running (the docker-compose stack, a Kubernetes namespace), where
`oncoroute up --demo` is not the one starting it:

    docker compose run --rm intake oncoroute demo-feed --roster --create-key --rate 1

Unlike the background feed of `oncoroute up --demo`, this one reports every answer intake gives
and stops at the first refusal (a wrong key, a bad URL), so a mistake is seen at once.
"""

from __future__ import annotations

import argparse
import os
import random
import threading
from typing import Any

from .demo import demo_api_key, load_demo_roster, synthetic_submission


def register(sub: Any) -> None:
    feed = sub.add_parser("demo-feed", help="send synthetic cases to a running intake")
    feed.add_argument("--intake-url", default=os.environ.get("INTAKE_URL", "http://intake:8081"),
                      help="intake's base URL (default $INTAKE_URL or http://intake:8081)")
    feed.add_argument("--api-key", default=os.environ.get("ONCOROUTE_API_KEY"),
                      help="intake API key (default $ONCOROUTE_API_KEY), sent as a Bearer token")
    feed.add_argument("--rate", type=float, default=0.5, help="submissions per second")
    feed.add_argument("--count", type=int, default=0, help="stop after this many (0: until ^C)")
    feed.add_argument("--create-key", action="store_true",
                      help="create a fresh demo key first (`oncoroute keys create`, needs "
                           "DATABASE_URL); the previous demo key is revoked")
    feed.add_argument("--roster", action="store_true",
                      help="first import the demo specialist roster (needs DATABASE_URL)")
    feed.add_argument("--seed", type=int, default=7, help="random seed of the synthetic cases")
    feed.set_defaults(func=run)


def run(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    import httpx

    if args.roster:
        print(f"imported {load_demo_roster({})} demo specialists", flush=True)
    key = demo_api_key({}) if args.create_key else args.api_key
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    stop = stop or threading.Event()
    interval = 1.0 / max(args.rate, 0.01)
    rng = random.Random(args.seed)
    sent = 0
    with httpx.Client(base_url=args.intake_url, headers=headers, timeout=10) as client:
        try:
            while not stop.is_set() and (args.count <= 0 or sent < args.count):
                if sent and stop.wait(interval):
                    break
                code = _submit(client, synthetic_submission(rng))
                if code is None:
                    return 1
                sent += 1
        except KeyboardInterrupt:
            pass
    print(f"sent {sent} submissions to {args.intake_url}", flush=True)
    return 0


def _submit(client: Any, submission: dict[str, Any]) -> int | None:
    """POST one submission; print the outcome; None when intake refuses (stop feeding)."""
    import httpx

    try:
        response = client.post("/v1/cases", json=submission)
    except httpx.HTTPError as exc:
        print(f"intake unreachable at {client.base_url}: {exc}", flush=True)
        return None
    code = response.status_code
    if code in (200, 201, 422):  # 422: intake rejected this synthetic case; go on
        body = response.json() if "json" in response.headers.get("content-type", "") else {}
        print(f"{code} {body.get('case_id') or body.get('title', '')}", flush=True)
        return int(code)
    hint = " (use --create-key, --api-key or ONCOROUTE_API_KEY)" if code in (401, 403) else ""
    print(f"intake refused the submission: HTTP {code}{hint}", flush=True)
    return None
