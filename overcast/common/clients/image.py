"""The image API as the compute service uses it: look images up, create and upload snapshots.

Calls carry the end user's token, so the image service applies its own policy
(a user boots only images they can see). The transport is injectable: tests
and the all-in-one cloud may hand it an in-process ASGI app.
"""

from __future__ import annotations

from typing import Any

import httpx


class ImageServiceError(Exception):
    """The image service answered something unexpected (``status``), or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


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

    async def find(self, token: str, **filters: str) -> list[dict[str, Any]]:
        """The images the caller sees that match ``filters``: every page, or with a
        ``limit`` filter, the first page only."""
        images: list[dict[str, Any]] = []
        path: str | None = "/v2/images"
        params: dict[str, str] | None = filters
        while path:
            response = await self._send("GET", path, token, params=params)
            if response.status_code != 200:
                raise ImageServiceError(
                    f"listing images: {response.status_code} {response.text}", response.status_code
                )
            body = response.json()
            images += body["images"]
            path, params = body.get("next"), None  # the next link carries the query
            if "limit" in filters:
                break
        return images

    async def patch(
        self, token: str, image_id: str, changes: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Apply JSON-patch ``changes`` to the image; the image as it is afterwards."""
        headers = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
        response = await self._send(
            "PATCH", f"/v2/images/{image_id}", token, json=changes, headers=headers
        )
        if response.status_code != 200:
            raise ImageServiceError(
                f"updating {image_id}: {response.status_code} {response.text}", response.status_code
            )
        image: dict[str, Any] = response.json()
        return image

    async def delete(self, token: str, image_id: str) -> int:
        """Delete the image; the image service's status code (204 when it is gone)."""
        return (await self._send("DELETE", f"/v2/images/{image_id}", token)).status_code
