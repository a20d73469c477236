"""Property-based fuzzing of every identity and image operation with schemathesis: never a 5xx.

The OpenAPI documents come from the route tables; requests go over HTTP, with an
admin token, to a real ``overcast up``. ``FUZZ_EXAMPLES`` sets the
number of generated requests per operation.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from overcast.identity.app import make_identity_app
from overcast.identity.service import IdentityService
from overcast.image.app import make_image_app
from overcast.image.handlers.bodies import PATCH
from overcast.image.service import ImageService
from tests.conftest import make_settings
from tests.functional.cloud import RunningCloud, start_cloud

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(1800)]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
PATCH_MEDIA = PATCH[0]


def _documents() -> tuple[dict[str, object], dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp))
        identity = make_identity_app(IdentityService(settings)).openapi()
        image = make_image_app(ImageService(settings), None, identity_url="").openapi()
        return identity, image


identity_document, image_document = _documents()
identity_schema = schemathesis.openapi.from_dict(identity_document)
image_schema = schemathesis.openapi.from_dict(image_document)


@schemathesis.serializer(PATCH_MEDIA)
def _json_patch(ctx: schemathesis.SerializationContext, value: object) -> bytes:
    return json.dumps(value).encode()


SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@pytest.fixture(scope="module")
def fuzz_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningCloud, str]]:
    cloud = start_cloud(tmp_path_factory.mktemp("fuzz") / "data")
    token, _ = cloud.admin_token()
    yield cloud, token
    cloud.stop()


def _call(case: schemathesis.Case, root: str, token: str) -> None:
    response = case.call(base_url=root, headers={"X-Auth-Token": token}, timeout=30)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )


@identity_schema.parametrize()
@SETTINGS
def test_no_identity_operation_answers_5xx(
    case: schemathesis.Case, fuzz_cloud: tuple[RunningCloud, str]
) -> None:
    cloud, token = fuzz_cloud
    _call(case, cloud.auth_url.removesuffix("/v3"), token)


@image_schema.parametrize()
@SETTINGS
def test_no_image_operation_answers_5xx(
    case: schemathesis.Case, fuzz_cloud: tuple[RunningCloud, str]
) -> None:
    cloud, token = fuzz_cloud
    assert cloud.image_url is not None
    _call(case, cloud.image_url, token)
