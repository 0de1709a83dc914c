"""Real HTTP receivers for notify's tests: a webhook receiver that verifies Standard Webhooks
signatures with the reference library (and refuses replays), and an SMS gateway. Both can be
taken down and brought back on the same port, or made to answer an error a few times."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from .stack import free_port

SECRET = "whsec_" + base64.b64encode(b"notify-e2e-webhook-secret-32byte").decode()
SMS_TOKEN = "sms-gateway-test-token"


class Receiver:
    """A threaded HTTP server; `handle(path, headers, body)` returns (status, reply)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[dict[str, Any]] = []
        self.refused: list[tuple[int, str]] = []
        self._errors: list[int] = []
        self.delay_s = 0.0  # answer slowly (a slow receiver)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, *statuses: int) -> None:
        with self._lock:
            self._errors.extend(statuses)

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        raise NotImplementedError

    def _respond(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        if self.delay_s:
            time.sleep(self.delay_s)  # in the server's own thread: the client waits
        with self._lock:
            if self._errors:
                status = self._errors.pop(0)
                self.refused.append((status, "injected"))
                return status, "injected failure"
        return self.handle(path, headers, body)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status, reply = receiver._respond(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("content-type", "text/plain")
                self.end_headers()
                self.wfile.write(reply.encode())

            def log_message(self, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class WebhookReceiver(Receiver):
    """Verifies every call as a receiving system would: signature, freshness, once per id."""

    def __init__(self, secret: str = SECRET) -> None:
        super().__init__()
        self._webhook = Webhook(secret)
        self.seen_ids: Counter[str] = Counter()

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        try:
            payload = self._webhook.verify(body, headers)
        except WebhookVerificationError as exc:
            with self._lock:
                self.refused.append((401, str(exc)))
            return 401, "bad signature"
        with self._lock:
            msg_id = {k.lower(): v for k, v in headers.items()}["webhook-id"]
            self.seen_ids[msg_id] += 1
            self.received.append({"id": msg_id, "path": path, **payload})
        return 200, "ok"

    def statuses(self, case_id: str) -> list[str]:
        with self._lock:
            return [r["status"] for r in self.received if r["case_id"] == case_id]


class SmsGateway(Receiver):
    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        lower = {k.lower(): v for k, v in headers.items()}
        if lower.get("authorization") != f"Bearer {SMS_TOKEN}":
            return 401, "unauthorised"
        doc = json.loads(body)
        with self._lock:
            self.received.append(doc)
        return 202, "queued"

    def to(self, number: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.received if r["to"] == number]


def env(webhooks: WebhookReceiver, sms: SmsGateway, source: str) -> dict[str, str]:
    return {"WEBHOOK_SECRETS": json.dumps({source: SECRET}),
            "SMS_GATEWAY_URL": f"{sms.url}/messages", "SMS_GATEWAY_TOKEN": SMS_TOKEN,
            "WEBHOOK_TIMEOUT_S": "3", "SMS_TIMEOUT_S": "3"}
