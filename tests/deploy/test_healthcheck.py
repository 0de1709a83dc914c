"""deploy/docker/healthcheck.py: the image's HEALTHCHECK finds the port of the service the
container runs and answers by that service's HTTP status."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest

from oncoroute_shared.cli.main import load_spec
from oncoroute_shared.embedded.stack import DEFAULT_PORTS

from .manifests import REPO, SERVICES

SCRIPT = REPO / "deploy" / "docker" / "healthcheck.py"
pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def probe() -> ModuleType:
    spec = importlib.util.spec_from_file_location("healthcheck", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_proc(tmp_path: Path, *commands: list[str]) -> Path:
    proc = tmp_path / "proc"
    for pid, argv in enumerate(commands, start=1):
        (proc / str(pid)).mkdir(parents=True)
        (proc / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (proc / "self").mkdir(parents=True, exist_ok=True)  # not a pid: ignored
    return proc


def test_default_ports_are_the_services_own(probe: ModuleType) -> None:
    assert probe.DEFAULT_PORTS == DEFAULT_PORTS
    assert probe.DEFAULT_PORTS == {s: load_spec(s).default_port for s in SERVICES}


@pytest.mark.parametrize(("argv", "expected"), [
    (["/app/.venv/bin/python", "/app/.venv/bin/oncoroute", "run", "sla"], ("sla", None)),
    (["oncoroute", "run", "notify", "--port", "9000"], ("notify", 9000)),
    (["oncoroute", "run", "matcher", "--port=9001"], ("matcher", 9001)),
    (["python", "-m", "oncoroute_shared.cli.main", "run", "intake"], ("intake", None)),
    (["oncoroute", "demo-feed", "--rate", "1"], None),
    (["python", "run", "intake"], None),  # not the oncoroute CLI
    (["/sbin/docker-init", "--"], None),
])
def test_reads_the_service_from_its_command_line(
        probe: ModuleType, argv: list[str], expected: tuple[str, int | None] | None) -> None:
    assert probe.service_command(argv) == expected


def test_port_precedence(probe: ModuleType, tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, ["/sbin/docker-init", "--", "oncoroute", "run", "sla"],
                     ["oncoroute", "run", "sla"])
    assert probe.probe_port({}, proc) == 8083
    assert probe.probe_port({"SLA_PORT": "9100"}, proc) == 9100
    assert probe.probe_port({"SLA_PORT": "9100", "HEALTHCHECK_PORT": "9200"}, proc) == 9200
    flagged = fake_proc(tmp_path / "b", ["oncoroute", "run", "sla", "--port", "9300"])
    assert probe.probe_port({"SLA_PORT": "9100"}, flagged) == 9300
    with pytest.raises(LookupError):
        probe.probe_port({}, fake_proc(tmp_path / "c", ["sleep", "1"]))


class _Status(BaseHTTPRequestHandler):
    codes: dict[str, int] = {"/healthz": 200, "/readyz": 503}

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(self.codes.get(self.path, 404))
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Status)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()


def test_exit_status_follows_the_service_s_answer(server: int) -> None:
    def run(path: str, port: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(SCRIPT), path], capture_output=True,
                              text=True, timeout=30, env={"HEALTHCHECK_PORT": str(port)})

    assert run("/healthz", server).returncode == 0
    unready = run("/readyz", server)
    assert unready.returncode == 1 and "503" in unready.stderr
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Status)
    closed = int(httpd.server_address[1])
    httpd.server_close()
    assert run("/healthz", closed).returncode == 1
