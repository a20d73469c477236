"""Version discovery: ``GET /`` answers 300 with every version, ``GET /versions`` 200."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from overcast.common.api import JSONResponse, Router, json_response

router = Router()

CURRENT = (2, 17)


def versions(request: Request) -> dict[str, Any]:
    base = f"{request.url.scheme}://{request.url.netloc}"
    links = [{"rel": "self", "href": f"{base}/v2/"}]
    return {
        "versions": [
            {
                "id": f"v2.{minor}",
                "status": "CURRENT" if (2, minor) == CURRENT else "SUPPORTED",
                "links": links,
            }
            for minor in range(CURRENT[1], -1, -1)
        ]
    }


@router.get("/")
async def list_versions(request: Request) -> JSONResponse:
    return json_response(versions(request), status=300)


@router.get("/versions")
async def show_versions(request: Request) -> JSONResponse:
    return json_response(versions(request))


@router.get("/v2")
async def show_v2(request: Request) -> JSONResponse:
    return json_response(versions(request), status=300)


@router.get("/v2/")
async def show_v2_slash(request: Request) -> JSONResponse:
    return json_response(versions(request), status=300)
