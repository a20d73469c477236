"""What every compute handler needs: the service, the version, and JSON bodies."""

from __future__ import annotations

from typing import Annotated, Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from overcast.common.api.errors import BadRequest, NotFound
from overcast.common.api.routing import Inject, parse_json
from overcast.common.auth.context import RequestContext
from overcast.compute.service import ComputeService
from overcast.compute.validation import validate

PREFIX = "/v2.1"


def compute_service_of(request: Request) -> ComputeService:
    service: ComputeService = request.app.state.compute
    return service


Compute = Annotated[ComputeService, Inject(compute_service_of)]


async def json_body(request: Request, schema: dict[str, Any] | None = None) -> Any:
    """The request body as JSON, checked against ``schema`` when one is given.

    :raises BadRequest: when it is empty, not JSON, or does not match.
    """
    body = parse_json(
        await request.body(),
        empty="The request body is empty; a JSON body is required.",
        malformed="Malformed request body",
    )
    if schema is not None:
        validate(schema, body)
    return body


def base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def links(request: Request, collection: str, ident: str | int) -> list[dict[str, str]]:
    """Nova's ``self`` and ``bookmark`` links of one resource."""
    base = base_url(request)
    return [
        {"rel": "self", "href": f"{base}/v2.1/{collection}/{ident}"},
        {"rel": "bookmark", "href": f"{base}/{collection}/{ident}"},
    ]


def next_link(request: Request, collection: str, marker: str) -> dict[str, str]:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
    params.append(("marker", marker))
    query = "&".join(f"{k}={v}" for k, v in params)
    return {"rel": "next", "href": f"{base_url(request)}/v2.1/{collection}?{query}"}


def query_int(request: Request, name: str, minimum: int = 0) -> int | None:
    """An integer query parameter.

    :raises BadRequest: when it is not an integer of at least ``minimum``.
    """
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} param must be an integer") from None
    if value < minimum:
        raise BadRequest(f"{name} param must be positive")
    return value


def removed_in(ctx: RequestContext, version: tuple[int, int]) -> None:
    """:raises NotFound: from ``version`` on, where Nova removed the API asked for."""
    if ctx.version >= version:
        raise NotFound("The resource could not be found.")


async def newest_first(
    session: AsyncSession,
    query: Select[Any],
    id_column: Any,
    *,
    marker: str | None,
    marker_id: Select[Any],
    limit: int | None,
) -> list[Any]:
    """A page of ``query``'s rows, newest (highest ``id_column``) first.

    With ``marker``, the page starts after the row ``marker_id`` selects the id of.

    :raises BadRequest: when no row has that marker.
    """
    if marker is not None:
        start = await session.scalar(marker_id)
        if start is None:
            raise BadRequest(f"Marker {marker} could not be found.")
        query = query.where(id_column < start)
    query = query.order_by(id_column.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(await session.scalars(query))
