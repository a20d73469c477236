"""Real clouds in subprocesses, shared per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.functional.cloud import RunningCloud, start_cloud


@pytest.fixture(scope="module")
def running_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    cloud = start_cloud(tmp_path_factory.mktemp("cloud") / "data")
    yield cloud
    cloud.stop()


@pytest.fixture(scope="module")
def two_worker_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    cloud = start_cloud(tmp_path_factory.mktemp("cloud2") / "data", workers=2)
    yield cloud
    cloud.stop()
