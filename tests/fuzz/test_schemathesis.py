"""Property-based fuzzing of every identity operation with schemathesis: never a 5xx.

The OpenAPI document comes from the route table; requests go over HTTP, with an
admin token, to a real ``overcast up``. ``FUZZ_EXAMPLES`` sets the
number of generated requests per operation.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from overcast.identity.app import make_identity_app
from overcast.identity.service import IdentityService
from tests.conftest import make_settings
from tests.functional.cloud import RunningCloud, start_cloud

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(1800)]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))


def _document() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        return make_identity_app(IdentityService(make_settings(Path(tmp)))).openapi()


schema = schemathesis.openapi.from_dict(_document())


@pytest.fixture(scope="module")
def fuzz_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningCloud, str]]:
    cloud = start_cloud(tmp_path_factory.mktemp("fuzz") / "data")
    token, _ = cloud.admin_token()
    yield cloud, token
    cloud.stop()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_operation_answers_5xx(
    case: schemathesis.Case, fuzz_cloud: tuple[RunningCloud, str]
) -> None:
    cloud, token = fuzz_cloud
    root = cloud.auth_url.removesuffix("/v3")
    response = case.call(base_url=root, headers={"X-Auth-Token": token}, timeout=30)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )
