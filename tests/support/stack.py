"""The real stack for integration and end-to-end tests: embedded broker and PostgreSQL on
free ports (or those the environment names), started through the product's own code."""

from __future__ import annotations

import os
from pathlib import Path

from oncoroute_shared.embedded.stack import Infrastructure, free_port

__all__ = ["free_port", "start_infrastructure"]


def start_infrastructure(data_dir: Path, tries: int = 3) -> Infrastructure:
    """Free ports are picked then bound by the servers: another process may take one in
    between, so a start that fails on its port is retried on new ones."""
    for attempt in range(tries):
        infra = Infrastructure(
            data_dir,
            kafka=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            database_url=os.environ.get("DATABASE_URL") or None,
            broker_port=free_port(),
            pg_port=free_port(),
        )
        try:
            return infra.start()
        except (RuntimeError, TimeoutError):
            infra.stop()
            if attempt == tries - 1:
                raise
    raise AssertionError("unreachable")
