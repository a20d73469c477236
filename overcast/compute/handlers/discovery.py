"""Version discovery: ``GET /`` lists v2.0 and v2.1, ``GET /v2.1`` and ``/v2`` show each."""

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


def _with_media_type(version: dict[str, Any], media: str) -> dict[str, Any]:
    """A version as its own document shows it: with its media type (not in the list)."""
    return {
        **version,
        "links": [
            *version["links"],
            {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"},
        ],
        "media-types": [
            {"base": "application/json", "type": f"application/vnd.openstack.compute+json;{media}"}
        ],
    }


def _v21(base: str) -> dict[str, Any]:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": str(MAX),
        "min_version": str(MIN),
        "updated": "2013-07-23T11:33:21Z",
        "links": [{"rel": "self", "href": f"{base}/v2.1/"}],
    }


@router.get("/")
async def list_versions(request: Request) -> JSONResponse:
    base = base_url(request)
    return json_response({"versions": [_v20(base), _v21(base)]})


@router.get("/v2.1")
@router.get("/v2.1/")
async def show_version(request: Request) -> JSONResponse:
    return json_response({"version": _with_media_type(_v21(base_url(request)), "version=2.1")})


@router.get("/v2")
@router.get("/v2/")
async def show_legacy_version(request: Request) -> JSONResponse:
    """The v2.0 document the version list links to (v2.0 itself is served as v2.1)."""
    return json_response({"version": _with_media_type(_v20(base_url(request)), "version=2")})
