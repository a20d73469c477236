"""``/v2/tasks`` and ``/v2/images/{id}/tasks``: background work on images."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, json_response
from overcast.common.api.errors import BadRequest, MethodNotAllowed
from overcast.image import tasks
from overcast.image.access import visible_image
from overcast.image.handlers import bodies
from overcast.image.handlers.common import Images, json_body
from overcast.image.views import task_view

router = Router(prefix="/v2")
LISTED = (
    "id",
    "type",
    "status",
    "owner",
    "expires_at",
    "created_at",
    "updated_at",
    "self",
    "schema",
)


@router.post("/tasks", status=201, body=bodies.TASK_BODY)
async def create_task(request: Request, ctx: Context, service: Images) -> JSONResponse:
    """Start a task (``import``: create an image and fill it from a URL)."""
    task = await tasks.create_task(service, ctx, await json_body(request))
    return json_response(task_view(task), status=201, headers={"Location": f"/v2/tasks/{task.id}"})


@router.get("/tasks")
async def list_tasks(request: Request, ctx: Context, service: Images) -> JSONResponse:
    query = request.query_params
    raw = query.get("limit", str(service.conf.limit_param_default))
    if not raw.isdigit():
        raise BadRequest("limit param must be a positive integer")
    limit = min(int(raw), service.conf.api_limit_max)
    filters = {k: query[k] for k in ("type", "status") if k in query}
    found = await tasks.list_tasks(service, ctx, filters, limit)
    listed: list[dict[str, Any]] = []
    for task in found:
        view = task_view(task)
        listed.append({k: view[k] for k in LISTED})
    return json_response({"tasks": listed, "first": "/v2/tasks", "schema": "/v2/schemas/tasks"})


@router.get("/tasks/{task_id}")
async def show_task(task_id: str, ctx: Context, service: Images) -> JSONResponse:
    return json_response(task_view(await tasks.get_task(service, ctx, task_id)))


@router.delete("/tasks/{task_id}")
async def delete_task(task_id: str) -> Response:
    raise MethodNotAllowed(
        "Tasks cannot be deleted: they are removed automatically once they expire.",
        headers={"Allow": "GET"},
    )


@router.get("/images/{image_id}/tasks")
async def list_image_tasks(image_id: str, ctx: Context, service: Images) -> JSONResponse:
    async with service.db.read() as session:
        await visible_image(session, ctx, image_id)
    found = await tasks.tasks_of_image(service, image_id)
    return json_response({"tasks": [task_view(task) for task in found]})
