"""Reading PATCH bodies in Glance's two JSON-patch dialects."""

from __future__ import annotations

import orjson
import pytest

from overcast.common.api.errors import BadRequest, UnsupportedMediaType
from overcast.image.patch import Change, decode_pointer, parse_patch

V21 = "application/openstack-images-v2.1-json-patch"
V20 = "application/openstack-images-v2.0-json-patch"


def body(ops: object) -> bytes:
    return orjson.dumps(ops)


def test_draft_10_operations() -> None:
    changes = parse_patch(V21, body([{"op": "replace", "path": "/name", "value": "x"}]))
    assert changes == [Change("replace", ("name",), "x", 10)]


def test_draft_4_names_the_operation_by_its_key() -> None:
    changes = parse_patch(V20, body([{"add": "/os_distro", "value": "debian"}, {"remove": "/k"}]))
    assert [(c.op, c.path, c.value, c.dialect) for c in changes] == [
        ("add", ("os_distro",), "debian", 4),
        ("remove", ("k",), None, 4),
    ]


def test_other_content_types_are_refused_with_accept_patch() -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        parse_patch("application/json", body([]))
    assert V21 in caught.value.headers["Accept-Patch"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "Body expected"),
        (b"{not json", "Malformed JSON"),
        (body({"op": "add"}), "JSON array"),
        (body(["add"]), "JSON objects"),
        (body([{"path": "/a", "value": 1}]), "`op`"),
        (body([{"op": "move", "path": "/a"}]), "Invalid operation"),
        (body([{"op": "add", "value": 1}]), "'path'"),
        (body([{"op": "add", "path": "/a"}]), 'requires a member named "value"'),
        (body([{"op": "add", "path": "/a/b", "value": 1}]), "Invalid JSON pointer"),
        (body([{"op": "add", "path": 3, "value": 1}]), "must be a string"),
    ],
)
def test_malformed_documents_say_what_is_wrong(raw: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse_patch(V21, raw)


def test_draft_4_needs_exactly_one_operation_key() -> None:
    with pytest.raises(BadRequest, match="exactly one member"):
        parse_patch(V20, body([{"add": "/a", "replace": "/b", "value": 1}]))


def test_locations_take_an_index() -> None:
    assert parse_patch(V21, body([{"op": "add", "path": "/locations/-", "value": {}}]))[0].path == (
        "locations",
        "-",
    )


@pytest.mark.parametrize("pointer", ["name", "/", "/a//b", "/a/", "/a~2b", "/a~"])
def test_pointers_outside_the_accepted_form_are_refused(pointer: str) -> None:
    with pytest.raises(BadRequest):
        decode_pointer(pointer)


def test_pointer_escapes_are_decoded() -> None:
    assert decode_pointer("/a~1b~0c") == ("a/b~c",)
