"""Session-wide real infrastructure: started once, shared by integration and e2e tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from oncoroute_shared.embedded.stack import Infrastructure

from .support.stack import start_infrastructure

# One folder per pytest-xdist worker: each worker has its own session system and logs.
ARTIFACTS = (Path(os.environ.get("ONCOROUTE_TEST_ARTIFACTS", "test-artifacts"))
             / os.environ.get("PYTEST_XDIST_WORKER", "")).resolve()


# The longest files (one to three minutes each), handed out first: with `--dist loadfile` a
# worker takes the next file when it is free, so a long file collected last (tests/scale
# comes after the short ones) ran alone at the end while the other worker sat idle.
LONGEST_FIRST = ("tests/scale/", "tests/chaos/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(LONGEST_FIRST))  # stable


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infrastructure]:
    stack = start_infrastructure(tmp_path_factory.mktemp("oncoroute-data"))
    try:
        yield stack
    finally:
        stack.stop()
