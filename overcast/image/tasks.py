"""Glance's tasks: ``import`` creates an image and fills it from a URL, in the background.

A task runs in the process that accepted it: ``pending`` -> ``processing`` ->
``success`` (``result: {"image_id": ...}``) or ``failure`` (``message`` says why,
and the image it created is removed). Finished tasks expire after
``[image] task_time_to_live`` hours.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import delete, select

from overcast.common.api.errors import APIError, BadRequest, NotFound
from overcast.common.auth.context import RequestContext
from overcast.image import data, images
from overcast.image.access import Caller
from overcast.image.models import Task
from overcast.image.service import ImageService

LOG = logging.getLogger(__name__)
TASK_TYPES = ("import",)
IMPORT_FIELDS = ("import_from", "import_from_format", "image_properties")
DOWNLOAD_TIMEOUT = httpx.Timeout(30.0, read=300.0)


def check_access(context: RequestContext, rule: str) -> Caller:
    caller = Caller.of(context)
    context.enforce("tasks_api_access", {"project_id": caller.project_id})
    context.enforce(rule, {"project_id": caller.project_id})
    return caller


async def create_task(service: ImageService, context: RequestContext, body: Any) -> Task:
    """Record a task and start it.

    :raises BadRequest: when the body is not a task this cloud can run.
    """
    caller = check_access(context, "add_task")
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object describing the task.")
    kind = body.get("type")
    if kind not in TASK_TYPES:
        raise BadRequest(f"Invalid type value: {kind}. It must be one of {', '.join(TASK_TYPES)}.")
    task_input = body.get("input")
    if not isinstance(task_input, dict):
        raise BadRequest("Invalid input: the task needs an 'input' object.")
    for name in IMPORT_FIELDS:
        if name not in task_input:
            raise BadRequest(f"Input does not contain '{name}' field")
    if not isinstance(task_input["image_properties"], dict):
        raise BadRequest("Input field 'image_properties' must be an object.")
    now = service.clock.now()
    task = Task(
        id=str(uuid.uuid4()),
        type=kind,
        status="pending",
        owner=caller.project_id,
        user_id=caller.user_id,
        request_id=context.request_id,
        input=task_input,
        message="",
        created_at=now,
        updated_at=now,
    )
    async with service.db.write() as session:
        session.add(task)
    service.spawn(_run_import(service, context, task.id, task_input))
    return task


async def _run_import(
    service: ImageService, context: RequestContext, task_id: str, task_input: dict[str, Any]
) -> None:
    await _set(service, task_id, status="processing")
    image_id = None
    try:
        image = await images.create_image(service, context, task_input["image_properties"])
        image_id = image.id
        await _set(service, task_id, image_id=image_id)
        await _download_into(service, context, image_id, str(task_input["import_from"]))
    except Exception as exc:
        message = exc.message if isinstance(exc, APIError) else str(exc) or type(exc).__name__
        LOG.info("import task %s failed: %s", task_id, message)
        if image_id is not None:
            await _forget_image(service, context, image_id)
        await _finish(service, task_id, "failure", message=message)
        return
    await _finish(service, task_id, "success", result={"image_id": image_id})


async def _download_into(
    service: ImageService, context: RequestContext, image_id: str, url: str
) -> None:
    _check_url(service, url)
    async with (
        httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT, follow_redirects=False) as client,
        client.stream("GET", url) as response,
    ):
        if response.status_code != 200:
            raise BadRequest(f"Fetching {url} answered {response.status_code}.")
        length = response.headers.get("content-length")
        await data.upload(
            service,
            context,
            image_id,
            _body(response),
            content_length=int(length) if length and length.isdigit() else None,
        )


async def _body(response: httpx.Response) -> AsyncIterator[bytes]:
    async for chunk in response.aiter_raw():
        yield chunk


def _check_url(service: ImageService, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in service.conf.import_allowed_schemes or not parts.hostname:
        raise BadRequest(f"The URL {url} is not one import may fetch (scheme {parts.scheme!r}).")
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        raise BadRequest(f"The URL {url} has an invalid port.") from None
    allowed = service.conf.import_allowed_ports
    if allowed and port not in allowed:
        raise BadRequest(f"The URL {url} uses port {port}, which import may not use.")


async def _forget_image(service: ImageService, context: RequestContext, image_id: str) -> None:
    try:
        await images.delete_image(service, context, image_id)
    except Exception:
        LOG.exception("could not remove image %s of a failed task", image_id)


async def _set(service: ImageService, task_id: str, **values: Any) -> None:
    async with service.db.write() as session:
        task = await session.get(Task, task_id)
        if task is not None:
            for name, value in values.items():
                setattr(task, name, value)
            task.updated_at = service.clock.now()


async def _finish(service: ImageService, task_id: str, status: str, **values: Any) -> None:
    expires = service.clock.now() + timedelta(hours=service.conf.task_time_to_live)
    await _set(service, task_id, status=status, expires_at=expires, **values)


async def list_tasks(
    service: ImageService, context: RequestContext, filters: dict[str, str], limit: int
) -> list[Task]:
    caller = check_access(context, "get_tasks")
    async with service.db.write() as session:
        await session.execute(delete(Task).where(Task.expires_at < service.clock.now()))
    statement = select(Task).order_by(Task.created_at.desc(), Task.id.desc()).limit(limit)
    if not caller.is_admin:
        statement = statement.where(Task.owner == caller.project_id)
    for name in ("type", "status"):
        if name in filters:
            statement = statement.where(getattr(Task, name) == filters[name])
    async with service.db.read() as session:
        return list(await session.scalars(statement))


async def get_task(service: ImageService, context: RequestContext, task_id: str) -> Task:
    caller = check_access(context, "get_task")
    async with service.db.read() as session:
        task = await session.get(Task, task_id)
    if task is None or not (caller.is_admin or task.owner == caller.project_id):
        raise NotFound(f"Task with the given id {task_id} was not found")
    return task


async def tasks_of_image(service: ImageService, image_id: str) -> list[Task]:
    async with service.db.read() as session:
        return list(
            await session.scalars(
                select(Task).where(Task.image_id == image_id).order_by(Task.created_at)
            )
        )
