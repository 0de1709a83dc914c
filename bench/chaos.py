"""Chaos under load, the long form: N cases over HTTP and Kafka while a random service process
is SIGKILLed and restarted every few seconds for as long as the load runs, and PostgreSQL is
restarted once; then every invariant over the whole history, printed as a table.

    .venv/bin/python bench/chaos.py --cases 5000 --rate 20
    .venv/bin/python bench/chaos.py --cases 2000 --processes 2      # two of every service

The CI form is tests/chaos/test_chaos_load.py (240 cases, one round of kills). Results:
docs/RELIABILITY.md. Exits 1 when an invariant was violated.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests package

from tests.chaos.harness import Settings, chaos_rig, run  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=5000)
    p.add_argument("--rate", type=float, default=20.0, help="submissions per second")
    p.add_argument("--kill-every", type=float, default=3.0,
                   help="seconds between kills (each waits for its victim to be running)")
    p.add_argument("--rounds", type=int, default=0,
                   help="rounds of kills (every service once each); 0: until the load is done")
    p.add_argument("--processes", type=int, default=1, help="processes of every service")
    p.add_argument("--no-chaos", action="store_true", help="the same load without faults")
    p.add_argument("--seed", type=int, default=20261121)
    p.add_argument("--logs", type=Path, default=Path("test-artifacts/logs-chaos-bench"))
    p.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = p.parse_args()
    settings = Settings(cases=args.cases, rate=args.rate, kill_every=args.kill_every,
                        rounds=args.rounds, processes=args.processes, seed=args.seed,
                        chaos=not args.no_chaos)
    with tempfile.TemporaryDirectory(prefix="oncoroute-chaos-") as tmp, \
            chaos_rig(Path(tmp), args.logs.resolve(), settings) as rig:
        outcome = asyncio.run(run(rig, settle_timeout=1800))
    print(outcome.report())
    if args.out:
        args.out.write_text(outcome.as_json())
    return 1 if any(c.violations for c in outcome.checks) else 0


if __name__ == "__main__":
    sys.exit(main())
