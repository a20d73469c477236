"""Routes as data, and a dispatcher that finds one in time proportional to the path's depth.

A service declares its routes with a :class:`Router` (one decorator per handler)::

    router = Router(prefix="/v3/projects")

    @router.get("/{project_id}")
    async def get_project(project_id: str, ctx: Context, identity: Identity) -> Response: ...

A handler's parameters are worked out once, when it is registered:

* a name that appears in the path (``{project_id}``) receives that path segment;
* a parameter annotated with a pydantic model receives the JSON body, validated;
* ``request: Request`` receives the Starlette request;
* ``Annotated[T, Inject(fn)]`` receives ``fn(request)`` (the request context, a service ...).

``GET`` routes answer ``HEAD`` as well; a path that exists with other methods
answers 405 with ``Allow``; a trailing slash is ignored unless the dispatcher is
strict about slashes (Glance answers 404 to ``GET /v2/images/``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import orjson
import pydantic
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api.errors import BadRequest, MethodNotAllowed, NotFound, ValidationError

Handler = Callable[..., Awaitable[Response]]
Body = tuple[str, dict[str, Any]] | None
"""``(media type, JSON schema)`` documenting a body the handler reads itself."""
_PARAM = re.compile(r"^\{(\w+)\}$")


@dataclass(frozen=True)
class Inject:
    """Marks a handler parameter filled by ``provide(request)``."""

    provide: Callable[[Request], Any]


@dataclass
class Route:
    method: str
    path: str
    handler: Handler
    status: int = 200
    body: type[pydantic.BaseModel] | None = None
    summary: str = ""
    documented_body: tuple[str, dict[str, Any]] | None = None
    """``(media type, JSON schema)`` of a body the handler reads itself (for OpenAPI)."""
    _binders: list[tuple[str, Callable[[Request, dict[str, str], Any], Any]]] = field(
        default_factory=list, repr=False
    )

    @property
    def params(self) -> list[str]:
        return [m.group(1) for part in self.path.split("/") if (m := _PARAM.match(part))]

    def bind(self) -> None:
        """Work out, once, how to fill each of the handler's parameters."""
        hints = get_type_hints(self.handler, include_extras=True)
        path_params = set(self.params)
        for name in inspect.signature(self.handler).parameters:
            self._binders.append((name, self._binder(name, hints.get(name), path_params)))

    def _binder(
        self, name: str, hint: Any, path_params: set[str]
    ) -> Callable[[Request, dict[str, str], Any], Any]:
        if name in path_params:
            return lambda request, params, body: params[name]
        if hint is Request:
            return lambda request, params, body: request
        if get_origin(hint) is Annotated:
            for meta in get_args(hint)[1:]:
                if isinstance(meta, Inject):
                    provide = meta.provide
                    return lambda request, params, body: provide(request)
        if isinstance(hint, type) and issubclass(hint, pydantic.BaseModel):
            self.body = hint
            return lambda request, params, body: body
        raise TypeError(f"{self.handler.__qualname__}: cannot fill parameter {name!r}")

    async def __call__(self, request: Request, params: dict[str, str]) -> Response:
        body = await read_body(request, self.body) if self.body is not None else None
        kwargs = {name: bind(request, params, body) for name, bind in self._binders}
        return await self.handler(**kwargs)


async def read_body(request: Request, model: type[pydantic.BaseModel]) -> pydantic.BaseModel:
    """The request body parsed as JSON and validated against ``model``.

    :raises ValidationError: when the body is empty, not JSON, or not what ``model`` says.
    """
    data = parse_json(
        await request.body(),
        empty="Expecting to find a JSON request body; the body is empty.",
        malformed=(
            "Expecting to find valid JSON in request body. The server could not comply with "
            "the request since it is either malformed or otherwise incorrect."
        ),
        error=ValidationError,
    )
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(describe_errors(exc.errors())) from None


def parse_json(
    raw: bytes, *, empty: str, malformed: str, error: type[BadRequest] = BadRequest
) -> Any:
    """``raw`` as JSON, refusing an empty or malformed body with the service's own words.

    :raises BadRequest: (or ``error``) with ``empty`` or ``malformed`` as its message.
    """
    if not raw.strip():
        raise error(empty)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise error(malformed) from None


def describe_errors(errors: Iterable[Mapping[str, Any]]) -> str:
    """One sentence per problem, naming the field: ``Invalid input for field/attribute name...``."""
    sentences = []
    for err in errors:
        where = ".".join(str(part) for part in err.get("loc", ())) or "body"
        kind = err.get("type", "")
        if kind == "missing":
            sentences.append(f"'{where}' is a required property.")
        elif kind == "extra_forbidden":
            sentences.append(f"Additional properties are not allowed ('{where}' was unexpected).")
        else:
            value = repr(err.get("input"))[:80]
            sentences.append(
                f"Invalid input for field/attribute {where}. Value: {value}. {err.get('msg', '')}."
            )
    return " ".join(sentences) or "The request body is not valid."


class Router:
    """Collects routes; ``include`` merges another router's routes."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.routes: list[Route] = []

    def add(
        self,
        method: str,
        path: str,
        handler: Handler,
        *,
        status: int = 200,
        body: Body = None,
    ) -> Route:
        route = Route(
            method.upper(),
            self.prefix + path,
            handler,
            status,
            summary=_summary(handler),
            documented_body=body,
        )
        route.bind()
        self.routes.append(route)
        return route

    def _decorator(
        self, method: str, path: str, status: int, body: Body
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add(method, path, handler, status=status, body=body)
            return handler

        return register

    def get(self, path: str, *, status: int = 200) -> Callable[[Handler], Handler]:
        """A ``GET`` route, which answers ``HEAD`` too."""
        return self._decorator("GET", path, status, None)

    read = get

    def head(self, path: str, *, status: int = 200) -> Callable[[Handler], Handler]:
        return self._decorator("HEAD", path, status, None)

    def post(
        self, path: str, *, status: int = 200, body: Body = None
    ) -> Callable[[Handler], Handler]:
        return self._decorator("POST", path, status, body)

    def put(
        self, path: str, *, status: int = 200, body: Body = None
    ) -> Callable[[Handler], Handler]:
        return self._decorator("PUT", path, status, body)

    def patch(
        self, path: str, *, status: int = 200, body: Body = None
    ) -> Callable[[Handler], Handler]:
        return self._decorator("PATCH", path, status, body)

    def delete(self, path: str, *, status: int = 200) -> Callable[[Handler], Handler]:
        return self._decorator("DELETE", path, status, None)


def _summary(handler: Handler) -> str:
    doc = inspect.getdoc(handler) or handler.__name__.replace("_", " ")
    return doc.splitlines()[0]


class _Node:
    __slots__ = ("literal", "methods", "param")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.methods: dict[str, Route] = {}


class Dispatcher:
    """Finds the route for a path by walking a trie of its segments (literals before parameters)."""

    def __init__(self, routes: Iterable[Route], *, strict_slashes: bool = False) -> None:
        self.routes = list(routes)
        self._split = _strict_segments if strict_slashes else _segments
        self._root = _Node()
        for route in self.routes:
            self._insert(route)

    def _insert(self, route: Route) -> None:
        node = self._root
        for segment in self._split(route.path):
            if _PARAM.match(segment):
                if node.param is None:
                    node.param = _Node()
                node = node.param
            else:
                node = node.literal.setdefault(segment, _Node())
        if route.method in node.methods:
            raise ValueError(f"{route.method} {route.path} is declared twice")
        node.methods[route.method] = route

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route and its path parameters.

        :raises NotFound: when no route has this path.
        :raises MethodNotAllowed: when the path exists but not with this method.
        """
        values: list[str] = []
        node = self._walk(self._root, self._split(path), 0, values)
        if node is None:
            raise NotFound()
        route = node.methods.get(method)
        if route is None and method == "HEAD":
            route = node.methods.get("GET")
        if route is None:
            allowed = set(node.methods)
            if "GET" in allowed:
                allowed.add("HEAD")
            raise MethodNotAllowed(headers={"Allow": ", ".join(sorted(allowed))})
        return route, dict(zip(route.params, values, strict=True))

    def _walk(
        self, node: _Node, segments: list[str], index: int, values: list[str]
    ) -> _Node | None:
        """Depth-first, literal segments before parameters, backtracking on a dead end."""
        if index == len(segments):
            return node if node.methods else None
        segment = segments[index]
        child = node.literal.get(segment)
        if child is not None:
            found = self._walk(child, segments, index + 1, values)
            if found is not None:
                return found
        if node.param is not None and segment:
            values.append(segment)
            found = self._walk(node.param, segments, index + 1, values)
            if found is not None:
                return found
            values.pop()
        return None


def _segments(path: str) -> list[str]:
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


def _strict_segments(path: str) -> list[str]:
    """Segments with a trailing empty one kept: ``/v2/images/`` is not ``/v2/images``."""
    if path in ("", "/"):
        return []
    return path.removeprefix("/").split("/")
