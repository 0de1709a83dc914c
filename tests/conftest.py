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


# Folders by how long their files run (two minutes for the scale test down to seconds for a
# unit file), handed out longest first: with `--dist loadfile` a worker takes the next file
# when it is free, so a long file handed out last runs alone at the end while the other
# worker sits idle. `make test` passes `--no-loadscope-reorder`, or pytest-xdist would hand
# out files with the most tests first (unit files) and the one-test scale and chaos files
# last: the suite took 13 to almost 15 minutes on the same code depending on where they fell.
LONGEST_FIRST = ("tests/scale/", "tests/chaos/", "tests/security/", "tests/e2e/", "tests/fuzz/",
                 "tests/deploy/")


def _rank(item: pytest.Item) -> int:
    return next((n for n, folder in enumerate(LONGEST_FIRST) if item.nodeid.startswith(folder)),
                len(LONGEST_FIRST))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: a file's tests stay together and in order


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
