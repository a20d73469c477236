"""What every identity handler needs: the service, URLs, list filters and pagination."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from overcast.common.api import JSONResponse, json_response
from overcast.common.api.pagination import Page, next_link, paginate
from overcast.common.api.routing import Inject
from overcast.identity import views
from overcast.identity.service import IdentityService
from overcast.identity.tokens.provider import TokenProvider

T = TypeVar("T")

FALSE_STRINGS = ("0", "false", "f", "no", "n", "off")


def identity_of(request: Request) -> IdentityService:
    service: IdentityService = request.app.state.identity
    return service


def tokens_of(request: Request) -> TokenProvider:
    provider: TokenProvider = request.app.state.tokens
    return provider


def base_of(request: Request) -> str:
    """The API's own root URL as the client reached it, for links."""
    return f"{request.url.scheme}://{request.url.netloc}"


Identity = Annotated[IdentityService, Inject(identity_of)]
Tokens = Annotated[TokenProvider, Inject(tokens_of)]
Base = Annotated[str, Inject(base_of)]


def self_url(request: Request) -> str:
    return str(request.url)


def truthy(value: str) -> bool:
    """Keystone's reading of a boolean query parameter."""
    return value.strip().lower() not in FALSE_STRINGS


def bool_filter(request: Request, name: str, column: Any) -> ColumnElement[bool] | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    clause: ColumnElement[bool] = column.is_(true()) if truthy(raw) else column.is_(false())
    return clause


def name_filters(request: Request, column: Any, field: str = "name") -> list[ColumnElement[bool]]:
    """``name=x`` and Keystone's inexact forms ``name__contains`` / ``__icontains`` /
    ``__startswith`` / ``__istartswith`` / ``__endswith`` / ``__iendswith``."""
    clauses: list[ColumnElement[bool]] = []
    query = request.query_params
    if field in query:
        clauses.append(column == query[field])
    for suffix, build in _INEXACT.items():
        value = query.get(f"{field}__{suffix}")
        if value is not None:
            clauses.append(build(column, value))
    return clauses


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_INEXACT: dict[str, Callable[[Any, str], ColumnElement[bool]]] = {
    "contains": lambda c, v: c.like(f"%{_escape(v)}%", escape="\\"),
    "icontains": lambda c, v: c.ilike(f"%{_escape(v)}%", escape="\\"),
    "startswith": lambda c, v: c.like(f"{_escape(v)}%", escape="\\"),
    "istartswith": lambda c, v: c.ilike(f"{_escape(v)}%", escape="\\"),
    "endswith": lambda c, v: c.like(f"%{_escape(v)}", escape="\\"),
    "iendswith": lambda c, v: c.ilike(f"%{_escape(v)}", escape="\\"),
}


def page_of(request: Request, service: IdentityService) -> Page:
    return Page.from_query(request.query_params, max_limit=service.conf.list_limit)


def sql_page(stmt: Select[Any], column: Any, page: Page) -> Select[Any]:
    """Order by ``column``, start after the marker, fetch one more than the limit."""
    stmt = stmt.order_by(column)
    if page.marker is not None:
        stmt = stmt.where(column > page.marker)
    if page.limit is not None:
        stmt = stmt.limit(page.limit + 1)
    return stmt


def cut_page(
    request: Request, rows: Sequence[T], page: Page, key: Callable[[T], str]
) -> tuple[list[T], str | None]:
    """Trim a fetched page to its limit; the ``next`` link when more follow."""
    if page.limit is None or len(rows) <= page.limit:
        return list(rows), None
    kept = list(rows[: page.limit])
    base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
    return kept, next_link(base, request.query_params, key(kept[-1]), page.limit)


def in_memory_page(
    request: Request, items: Sequence[T], page: Page, key: Callable[[T], str]
) -> tuple[list[T], str | None]:
    """Pagination over a list already in memory (and in its final order)."""
    kept, more = paginate(items, page, key)
    if not more:
        return kept, None
    base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
    return kept, next_link(base, request.query_params, key(kept[-1]), page.limit)


def filter_target(**values: str | None) -> dict[str, Any]:
    """A policy target from list filters. A filter that was not given is left out, not set
    to None: ``domain_id:%(target.domain_id)s`` must fail (not compare "None" with "None")
    for a project-scoped caller who names no domain."""
    return {k: v for k, v in values.items() if v is not None}


Render = Callable[[AsyncSession, list[Any]], Awaitable[list[dict[str, Any]]]]


def each(render_one: Callable[[Any], dict[str, Any]]) -> Render:
    """A list renderer from a one-row renderer that needs nothing else."""

    async def render(session: AsyncSession, rows: list[Any]) -> list[dict[str, Any]]:
        return [render_one(row) for row in rows]

    return render


def field_filters(request: Request, model: Any, *fields: str) -> list[ColumnElement[bool]]:
    """``field=value`` equality filters for the given query parameters that are present."""
    query = request.query_params
    return [getattr(model, f) == query[f] for f in fields if f in query]


async def paged_list(
    request: Request,
    identity: IdentityService,
    model: Any,
    clauses: Sequence[ColumnElement[bool]],
    collection: str,
    render: Render,
) -> JSONResponse:
    """The rows of ``model`` matching ``clauses``, one page of them, as a Keystone collection."""
    page = page_of(request, identity)
    stmt = sql_page(select(model).where(*clauses), model.id, page)
    async with identity.db.read() as session:
        rows, next_url = cut_page(request, list(await session.scalars(stmt)), page, lambda r: r.id)
        items = await render(session, rows)
    return json_response(views.collection(collection, items, self_url(request), next_url))
