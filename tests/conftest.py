"""Shared fixtures (repository paths, the vendored XTREME mock submission) and the gate for
system tests.

Tests marked `system` need root and change the machine: they install Debian packages and start
daemons (the local SLURM cluster of tests/test_slurm.py). They run only when asked with
`XSTILTS_SYSTEM_TESTS=1` (as .ci/run does); a plain `pytest` on a laptop changes nothing on the
system and reports them as skipped with that reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
XTREME_MOCK = REPO / "tests" / "data" / "xtreme_mock"
SYSTEM_TESTS_ENV = "XSTILTS_SYSTEM_TESTS"


def system_tests_enabled() -> bool:
    return os.environ.get(SYSTEM_TESTS_ENV, "").strip() in ("1", "true", "yes")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if system_tests_enabled():
        return
    skip = pytest.mark.skip(reason=f"system test (root, Debian packages, daemons): set "
                                   f"{SYSTEM_TESTS_ENV}=1 to run it")
    for item in items:
        if item.get_closest_marker("system"):
            item.add_marker(skip)


@pytest.fixture
def fresh_load_cache():
    """`xstilts.data.load`'s dataset cache emptied before and after the test."""
    from xstilts.data import load

    load.clear_cache()
    yield
    load.clear_cache()


@pytest.fixture(scope="module")
def hub_files(tmp_path_factory):
    """The hub fixtures of `fixtures_real.HUB` as parquet files: key -> file."""
    from fixtures_real import write_hub_parquet

    return write_hub_parquet(tmp_path_factory.mktemp("hub"))


@pytest.fixture
def fake_hub(hub_files, tmp_path, monkeypatch):
    """`datasets.load_dataset` serves the hub fixtures (no network)."""
    import datasets
    from fixtures_real import fake_load_dataset

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset(hub_files, tmp_path / "c"))


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def xtreme_mock() -> Path:
    """google-research/xtreme's mock submission with evaluate.py's scores (Apache-2.0,
    vendored in tests/data/xtreme_mock; see its README.md)."""
    assert (XTREME_MOCK / "expected_scores.csv").is_file(), f"{XTREME_MOCK} is incomplete"
    return XTREME_MOCK
