"""`oncoroute demo-feed` (the compose demo's feed) against a real HTTP receiver: it sends
synthetic submissions with the API key, stops at --count, and stops at once, saying why, when
intake refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from oncoroute_shared.cli.demo import DEMO_SOURCE

from ..e2e.conftest import isolated_system


class Intake(ThreadingHTTPServer):
    def __init__(self, status: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status = status
        self.received: list[tuple[str, str, dict[str, Any]]] = []


class _Handler(BaseHTTPRequestHandler):
    server: Intake

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append((self.path, self.headers.get("Authorization", ""), body))
        reply = json.dumps({"case_id": f"case-{len(self.server.received)}"}).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


def serve(status: int) -> Iterator[Intake]:
    httpd = Intake(status)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def intake() -> Iterator[Intake]:
    yield from serve(201)


@pytest.fixture
def refusing_intake() -> Iterator[Intake]:
    yield from serve(401)


def feed(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ONCOROUTE_API_KEY"}
    return subprocess.run([sys.executable, "-m", "oncoroute_shared.cli.main", "demo-feed",
                           "--intake-url", url, "--rate", "50", *args],
                          capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.unit
def test_sends_the_given_number_of_submissions_with_the_key(intake: Intake) -> None:
    url = f"http://127.0.0.1:{intake.server_address[1]}"
    out = feed(url, "--count", "5", "--api-key", "k-123")
    assert out.returncode == 0, out.stderr
    assert len(intake.received) == 5
    assert {(path, auth) for path, auth, _ in intake.received} == {("/v1/cases", "Bearer k-123")}
    ids = {body["external_id"] for _, _, body in intake.received}
    assert len(ids) == 5 and {body["source"] for _, _, body in intake.received} == {
        DEMO_SOURCE}
    assert out.stdout.splitlines()[-1] == f"sent 5 submissions to {url}"
    assert "201 case-5" in out.stdout


@pytest.mark.unit
def test_stops_at_the_first_refusal_and_says_why(refusing_intake: Intake) -> None:
    url = f"http://127.0.0.1:{refusing_intake.server_address[1]}"
    out = feed(url, "--count", "5")
    assert out.returncode == 1
    assert len(refusing_intake.received) == 1
    assert refusing_intake.received[0][1] == ""  # no key given, none sent
    assert "HTTP 401 (use --create-key, --api-key or ONCOROUTE_API_KEY)" in out.stdout


@pytest.mark.unit
def test_reports_an_unreachable_intake() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _Handler) as closed:
        port = closed.server_address[1]
    out = feed(f"http://127.0.0.1:{port}", "--count", "1")
    assert out.returncode == 1 and "intake unreachable" in out.stdout


@pytest.mark.e2e
def test_feeds_a_real_intake_with_a_key_it_creates(tmp_path: Path, artifacts: Path) -> None:
    """What the compose demo runs, against a real intake on its own broker and PostgreSQL."""
    with isolated_system(tmp_path, artifacts / "logs" / "demo-feed",
                         services=("intake",)) as system:
        out = subprocess.run(
            [sys.executable, "-m", "oncoroute_shared.cli.main", "demo-feed", "--create-key",
             "--roster", "--count", "4", "--rate", "20", "--intake-url", system.url("intake")],
            capture_output=True, text=True, timeout=120, env={**os.environ, **system.env})
        assert out.returncode == 0, out.stdout + out.stderr
        lines = out.stdout.splitlines()
        assert lines[0].startswith("imported ") and lines[-1].startswith("sent 4 submissions")
        case_ids = [line.split()[1] for line in lines[1:-1] if line.startswith("201 ")]
        assert case_ids, out.stdout
        operator = system.cli("keys", "create", "--operator", "--name", "demo-feed-test")
        assert operator.returncode == 0, operator.stderr
        headers = {"Authorization": f"Bearer {operator.stdout.strip()}"}
        for case_id in case_ids:
            got = httpx.get(f"{system.url('intake')}/v1/cases/{case_id}", headers=headers,
                            timeout=30)
            assert got.status_code == 200 and got.json()["source"] == DEMO_SOURCE
