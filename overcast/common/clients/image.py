"""The image API as the compute service uses it: look images up, create and upload snapshots.

Calls carry the end user's token, so the image service applies its own policy
(a user boots only images they can see). The transport is injectable: tests
and the all-in-one cloud may hand it an in-process ASGI app.
"""

from __future__ import annotations

from typing import Any

import httpx


class ImageServiceError(Exception):
    """The image service answered something unexpected, or could not be reached."""


class ImageClient:
    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, transport=transport, timeout=60)

    async def close(self) -> None:
        await self._client.aclose()

    async def _send(self, method: str, path: str, token: str, **kw: Any) -> httpx.Response:
        headers = {"X-Auth-Token": token, **kw.pop("headers", {})}
        try:
            return await self._client.request(method, path, headers=headers, **kw)
        except httpx.HTTPError as exc:
            raise ImageServiceError(f"the image service cannot be reached: {exc}") from exc

    async def get(self, token: str, image_id: str) -> dict[str, Any] | None:
        """The image as its API shows it, or None when the caller cannot see one by that id."""
        response = await self._send("GET", f"/v2/images/{image_id}", token)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ImageServiceError(f"image {image_id}: {response.status_code} {response.text}")
        image: dict[str, Any] = response.json()
        return image

    async def create(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self._send("POST", "/v2/images", token, json=body)
        if response.status_code != 201:
            raise ImageServiceError(f"creating an image: {response.status_code} {response.text}")
        image: dict[str, Any] = response.json()
        return image

    async def upload(self, token: str, image_id: str, data: bytes) -> None:
        headers = {"Content-Type": "application/octet-stream"}
        response = await self._send(
            "PUT", f"/v2/images/{image_id}/file", token, content=data, headers=headers
        )
        if response.status_code != 204:
            raise ImageServiceError(f"uploading {image_id}: {response.status_code} {response.text}")

    async def list(self, token: str, **filters: str) -> list[dict[str, Any]]:
        """Every image the caller sees that matches ``filters`` (every page)."""
        images: list[dict[str, Any]] = []
        path: str | None = "/v2/images"
        params: dict[str, str] | None = filters
        while path:
            response = await self._send("GET", path, token, params=params)
            if response.status_code != 200:
                raise ImageServiceError(f"listing images: {response.status_code} {response.text}")
            body = response.json()
            images += body["images"]
            path, params = body.get("next"), None  # the next link carries the query
        return images

    async def delete(self, token: str, image_id: str) -> None:
        await self._send("DELETE", f"/v2/images/{image_id}", token)
