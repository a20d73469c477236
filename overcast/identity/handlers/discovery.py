"""Version discovery: ``GET /`` (300, every version) and ``GET /v3`` (200, this one)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from overcast.common.api import JSONResponse, Router, json_response

router = Router()

UPDATED = "2020-04-07T00:00:00Z"
MEDIA_TYPES = [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]


def version(base: str) -> dict[str, Any]:
    return {
        "id": "v3.14",
        "status": "stable",
        "updated": UPDATED,
        "links": [{"rel": "self", "href": f"{base}/v3/"}],
        "media-types": MEDIA_TYPES,
    }


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


@router.read("/")
async def list_versions(request: Request) -> JSONResponse:
    return json_response({"versions": {"values": [version(_base(request))]}}, status=300)


@router.read("/v3")
async def show_version(request: Request) -> JSONResponse:
    return json_response({"version": version(_base(request))})
