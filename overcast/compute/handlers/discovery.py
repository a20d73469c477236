"""Version discovery: ``GET /`` lists v2.0 and v2.1, ``GET /v2.1`` shows v2.1."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from overcast.common.api import JSONResponse, Router, json_response
from overcast.compute.api_versions import MAX, MIN
from overcast.compute.handlers.common import base_url

router = Router()


def _v20(base: str) -> dict[str, Any]:
    return {
        "id": "v2.0",
        "status": "SUPPORTED",
        "version": "",
        "min_version": "",
        "updated": "2011-01-21T11:33:21Z",
        "links": [{"rel": "self", "href": f"{base}/v2/"}],
    }


def _v21(base: str) -> dict[str, Any]:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": str(MAX),
        "min_version": str(MIN),
        "updated": "2013-07-23T11:33:21Z",
        "links": [
            {"rel": "self", "href": f"{base}/v2.1/"},
            {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"},
        ],
        "media-types": [
            {
                "base": "application/json",
                "type": "application/vnd.openstack.compute+json;version=2.1",
            }
        ],
    }


@router.get("/")
async def list_versions(request: Request) -> JSONResponse:
    base = base_url(request)
    return json_response({"versions": [_v20(base), _v21(base)]})


@router.get("/v2.1")
async def show_version(request: Request) -> JSONResponse:
    return json_response({"version": _v21(base_url(request))})
