"""Tasks (import from a URL), version discovery, schemas and ``/v2/info``."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from tests.api.identity.conftest import Api
from tests.api.image.conftest import ImageCloud, make_image


@pytest.fixture
async def web_server() -> AsyncIterator[tuple[str, bytes]]:
    """A loopback HTTP server offering one file; yields its URL and the file's bytes."""
    payload = os.urandom(200_000)

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=payload)

    app = web.Application()
    app.router.add_get("/disk.img", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    yield f"http://127.0.0.1:{port}/disk.img", payload
    await runner.cleanup()


def import_task(url: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "import",
        "input": {
            "import_from": url,
            "import_from_format": "raw",
            "image_properties": {"disk_format": "raw", "container_format": "bare", **properties},
        },
    }


async def finished(api: Api, task_id: str) -> dict[str, Any]:
    for _ in range(200):
        task: dict[str, Any] = (await api.get(f"/v2/tasks/{task_id}")).json()
        if task["status"] in ("success", "failure"):
            return task
        await asyncio.sleep(0.02)
    raise AssertionError(f"task {task_id} did not finish")


async def test_an_import_task_fills_a_new_image_from_a_url(
    admin: Api, image_cloud: ImageCloud, web_server: tuple[str, bytes]
) -> None:
    url, payload = web_server
    conf = image_cloud.image.conf
    image_cloud.image.conf = conf.model_copy(update={"import_allowed_ports": ()})
    try:
        response = await admin.post("/v2/tasks", json=import_task(url, name="from-web"))
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "pending"
        task = await finished(admin, response.json()["id"])
    finally:
        image_cloud.image.conf = conf
    assert task["status"] == "success", task["message"]
    image = (await admin.get(f"/v2/images/{task['result']['image_id']}")).json()
    assert image["status"] == "active" and image["name"] == "from-web"
    assert image["checksum"] == hashlib.md5(payload).hexdigest()
    assert task["expires_at"] is not None and task["self"] == f"/v2/tasks/{task['id']}"
    tasks_of_image = (await admin.get(f"/v2/images/{image['id']}/tasks")).json()["tasks"]
    assert [t["id"] for t in tasks_of_image] == [task["id"]]
    listed = (await admin.get("/v2/tasks", params={"status": "success"})).json()
    assert task["id"] in {t["id"] for t in listed["tasks"]}
    assert "input" not in listed["tasks"][0]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://no-such-host.invalid/disk.img", ""),
        ("file:///etc/passwd", "scheme"),
        ("http://127.0.0.1:1/disk.img", "port 1"),
    ],
)
async def test_an_import_that_cannot_fetch_fails_and_leaves_no_image(
    admin: Api, url: str, words: str
) -> None:
    response = await admin.post("/v2/tasks", json=import_task(url, name="doomed"))
    assert response.status_code == 201
    task = await finished(admin, response.json()["id"])
    assert task["status"] == "failure" and words in task["message"]
    doomed = await admin.get("/v2/images", params={"name": "doomed", "owner": admin.project_id})
    assert not [i for i in doomed.json()["images"] if i["status"] != "deleted"]


@pytest.mark.parametrize(
    "body",
    [
        {"type": "export", "input": {}},
        {"type": "import"},
        {"type": "import", "input": {"import_from": "http://x"}},
        {
            "type": "import",
            "input": {"import_from": "x", "import_from_format": "raw", "image_properties": []},
        },
        ["import"],
    ],
)
async def test_bad_tasks_are_refused(admin: Api, body: Any) -> None:
    assert (await admin.post("/v2/tasks", json=body)).status_code == 400


async def test_tasks_are_for_admins_and_cannot_be_deleted(owner: Api, admin: Api) -> None:
    assert (await owner.post("/v2/tasks", json=import_task("http://x/y"))).status_code == 403
    assert (await owner.get("/v2/tasks")).status_code == 403
    unknown = await admin.get("/v2/tasks/00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404
    refused = await admin.delete("/v2/tasks/00000000-0000-0000-0000-000000000000")
    assert refused.status_code == 405


async def test_version_discovery(image_cloud: ImageCloud) -> None:
    anonymous = image_cloud.anonymous()
    root = await anonymous.get("/")
    assert root.status_code == 300
    versions = root.json()["versions"]
    assert versions[0] == {
        "id": "v2.17",
        "status": "CURRENT",
        "links": [{"rel": "self", "href": "http://image.test/v2/"}],
    }
    assert versions[-1]["id"] == "v2.0" and all(v["status"] == "SUPPORTED" for v in versions[1:])
    assert (await anonymous.get("/versions")).status_code == 200


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("image", "image"),
        ("images", "images"),
        ("member", "member"),
        ("members", "members"),
        ("task", "task"),
        ("tasks", "tasks"),
        ("metadefs/namespace", "namespace"),
        ("metadefs/namespaces", "namespaces"),
        ("metadefs/resource_type", "resource_type_association"),
        ("metadefs/resource_types", "resource_type_associations"),
        ("metadefs/object", "object"),
        ("metadefs/objects", "objects"),
        ("metadefs/property", "property"),
        ("metadefs/properties", "properties"),
        ("metadefs/tag", "tag"),
        ("metadefs/tags", "tags"),
    ],
)
async def test_schemas(reader: Api, path: str, name: str) -> None:
    response = await reader.get(f"/v2/schemas/{path}")
    assert response.status_code == 200 and response.json()["name"] == name


async def test_the_image_schema_describes_the_configured_formats(reader: Api) -> None:
    schema = (await reader.get("/v2/schemas/image")).json()
    assert "qcow2" in schema["properties"]["disk_format"]["enum"]
    assert schema["additionalProperties"] == {"type": "string"}
    assert (await reader.get("/v2/schemas/nothing")).status_code == 404


async def test_info_describes_stores_imports_and_usage(owner: Api, admin: Api) -> None:
    stores = (await owner.get("/v2/info/stores")).json()["stores"]
    assert stores == [
        {"id": "file", "description": "Image data in files on this host's disk.", "default": True}
    ]
    assert (await owner.get("/v2/info/stores/detail")).status_code == 403
    detail = (await admin.get("/v2/info/stores/detail")).json()["stores"][0]
    assert detail["type"] == "file" and "data_dir" in detail["properties"]
    methods = (await owner.get("/v2/info/import")).json()["import-methods"]
    assert methods["value"] == []
    await make_image(owner)
    usage = (await owner.get("/v2/info/usage")).json()["usage"]
    assert usage["image_count_total"] == {"limit": -1, "usage": 1}
    assert usage["image_size_total"]["limit"] == 64


async def test_staging_and_import_are_refused_clearly(owner: Api) -> None:
    image = await make_image(owner)
    staged = await owner.put(
        f"/v2/images/{image['id']}/stage",
        content=b"x",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert staged.status_code == 404 and "no import methods" in staged.json()["message"]
    imported = await owner.post(
        f"/v2/images/{image['id']}/import", json={"method": {"name": "web-download"}}
    )
    assert imported.status_code == 400 and "Unknown import method" in imported.json()["message"]
    assert (await owner.post(f"/v2/images/{image['id']}/import", json={})).status_code == 400
