"""Starting services on picked ports: a port another process took between the pick and the
bind is not a failed start, and a service is ready only when it answers with its own name."""

from __future__ import annotations

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from oncoroute_shared.embedded import stack
from oncoroute_shared.embedded.stack import ServiceProcess, wait_ready

# A stand-in for a service: binds its port (exits as uvicorn does when it is taken) and
# answers /readyz with its name; the name comes from the command line `run <name>`.
FAKE = """
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
name, port = sys.argv[-3], int(sys.argv[-1])
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"ready": True, "service": name}).encode()
        self.send_response(200); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
try:
    server = HTTPServer(("127.0.0.1", port), H)
except OSError as exc:
    print(f"[Errno 98] error while attempting to bind: address already in use", flush=True)
    sys.exit(1)
server.serve_forever()
"""


class _Fake(ServiceProcess):
    def command(self) -> list[str]:
        return [sys.executable, "-c", FAKE, "run", self.name, "--port", str(self.port)]


class _Other(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"ready": True, "service": "intake"}).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def taken_port() -> Any:
    """A port another service already answers on (as when a parallel test took it)."""
    server = HTTPServer(("127.0.0.1", 0), _Other)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_service_whose_port_was_taken_starts_again_on_another(tmp_path: Path,
                                                                taken_port: int) -> None:
    svc = _Fake("sla", taken_port, {}, tmp_path / "sla.log").start()
    try:
        wait_ready([svc], deadline_s=30)
        assert svc.port != taken_port
        assert svc.alive()
    finally:
        svc.kill()


def test_a_taken_port_is_an_error_when_the_port_was_asked_for(tmp_path: Path,
                                                              taken_port: int) -> None:
    svc = _Fake("sla", taken_port, {}, tmp_path / "sla.log").start()
    try:
        with pytest.raises(RuntimeError, match="sla exited"):
            wait_ready([svc], deadline_s=30, port_retries=0)
    finally:
        svc.kill()


def test_a_service_that_exits_for_another_reason_is_not_restarted(tmp_path: Path) -> None:
    svc = _Crashing("matcher", stack.free_port(), {}, tmp_path / "matcher.log").start()
    with pytest.raises(RuntimeError, match="matcher exited"):
        wait_ready([svc], deadline_s=30)


class _Crashing(ServiceProcess):
    def command(self) -> list[str]:
        return [sys.executable, "-c", "import sys; sys.exit(3)"]


def test_free_port_is_bindable() -> None:
    port = stack.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
