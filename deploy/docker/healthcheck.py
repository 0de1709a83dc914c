"""Container health probe: `python healthcheck.py [/healthz|/readyz]`, exit 0 when healthy.

One image runs any of the four services, chosen by its command
(`oncoroute run SERVICE [--port N]`), so the probe finds the port the way the service does:
`HEALTHCHECK_PORT` if set, else `--port N` on the running command line, else `<SERVICE>_PORT`,
else the service's default port. Standard library only: it runs every few seconds.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path

DEFAULT_PORTS = {"intake": 8081, "matcher": 8082, "sla": 8083, "notify": 8084}


def service_command(argv: list[str]) -> tuple[str, int | None] | None:
    """(service, --port) from an `oncoroute run SERVICE [--port N]` command line, else None."""
    for i, arg in enumerate(argv[:-1]):
        if arg == "run" and argv[i + 1] in DEFAULT_PORTS and _is_oncoroute(argv[:i]):
            rest = argv[i + 2:]
            port = None
            for j, opt in enumerate(rest):
                if opt == "--port" and j + 1 < len(rest):
                    port = int(rest[j + 1])
                elif opt.startswith("--port="):
                    port = int(opt.split("=", 1)[1])
            return argv[i + 1], port
    return None


def _is_oncoroute(prefix: list[str]) -> bool:
    return any(Path(a).name == "oncoroute" or a == "oncoroute_shared.cli.main" for a in prefix)


def command_lines(proc: Path) -> Iterable[list[str]]:
    """Every process's argv, PID 1 first (the service, unless the container runs an init)."""
    pids = sorted((p for p in proc.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    for pid in pids:
        try:
            raw = (pid / "cmdline").read_bytes()
        except OSError:
            continue
        yield [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def probe_port(env: Mapping[str, str], proc: Path) -> int:
    if env.get("HEALTHCHECK_PORT"):
        return int(env["HEALTHCHECK_PORT"])
    for argv in command_lines(proc):
        found = service_command(argv)
        if found is not None:
            service, port = found
            return port or int(env.get(f"{service.upper()}_PORT") or DEFAULT_PORTS[service])
    raise LookupError("no `oncoroute run SERVICE` process in this container")


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/healthz"
    try:
        port = probe_port(os.environ, Path("/proc"))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return 0 if response.status == 200 else 1
    except (LookupError, ValueError, OSError, urllib.error.URLError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
