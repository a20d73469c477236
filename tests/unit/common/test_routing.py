from __future__ import annotations

import pydantic
import pytest
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api.errors import MethodNotAllowed, NotFound
from overcast.common.api.routing import Dispatcher, Router, describe_errors


async def ok() -> Response:
    return Response()


async def ok_id(thing_id: str) -> Response:
    return Response(thing_id)


def dispatcher() -> Dispatcher:
    router = Router(prefix="/v3")
    router.add("GET", "/things", ok)
    router.add("POST", "/things", ok)
    router.add("GET", "/things/{thing_id}", ok_id)
    router.add("DELETE", "/things/{other_name}", ok)
    router.add("GET", "/things/special/default", ok)
    router.add("GET", "/things/{thing_id}/parts", ok_id)
    return Dispatcher(router.routes)


def test_literal_segments_win_and_parameters_are_named_per_route() -> None:
    d = dispatcher()
    route, params = d.find("GET", "/v3/things/special/default")
    assert route.handler is ok and params == {}
    route, params = d.find("GET", "/v3/things/special/parts")
    assert params == {"thing_id": "special"}
    assert d.find("DELETE", "/v3/things/x")[1] == {"other_name": "x"}


def test_trailing_slash_and_head() -> None:
    d = dispatcher()
    assert d.find("GET", "/v3/things/")[0].handler is ok
    assert d.find("HEAD", "/v3/things")[0].method == "GET"


def test_not_found_and_method_not_allowed() -> None:
    d = dispatcher()
    with pytest.raises(NotFound):
        d.find("GET", "/v3/nothing")
    with pytest.raises(MethodNotAllowed) as caught:
        d.find("PUT", "/v3/things")
    assert caught.value.headers["Allow"] == "GET, HEAD, POST"


def test_duplicate_route_is_refused() -> None:
    router = Router()
    router.add("GET", "/a", ok)
    router.add("GET", "/a/", ok)
    with pytest.raises(ValueError, match="declared twice"):
        Dispatcher(router.routes)


def test_unfillable_parameter_is_refused() -> None:
    async def handler(mystery: int) -> Response:
        return Response()

    with pytest.raises(TypeError, match="mystery"):
        Router().add("GET", "/x", handler)


class Body(pydantic.BaseModel):
    name: str


async def with_body(request: Request, body: Body) -> Response:
    return Response()


def test_body_model_is_detected() -> None:
    route = Router().add("POST", "/x", with_body)
    assert route.body is Body


def test_describe_errors_names_fields() -> None:
    class Body(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid")
        name: pydantic.StrictStr

    with pytest.raises(pydantic.ValidationError) as caught:
        Body.model_validate({"name": 5, "other": 1})
    text = describe_errors(caught.value.errors())
    assert "field/attribute name" in text and "'other' was unexpected" in text
