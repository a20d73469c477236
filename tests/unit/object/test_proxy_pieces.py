"""The proxy's pure pieces: Swift's limits, listing formats and the quorum."""

from __future__ import annotations

import json

import pytest

from overcast.object.proxy import listings
from overcast.object.proxy.backend import Reply, best_status, quorum
from overcast.object.proxy.constraints import (
    Invalid,
    Limits,
    check_container_name,
    check_metadata,
    check_object_name,
)
from overcast.object.ring.devices import Device

LIMITS = Limits()


def test_metadata_limits() -> None:
    check_metadata({"X-Object-Meta-A": "1", "Content-Type": "x" * 999}, "object", LIMITS)
    with pytest.raises(Invalid, match="name too long"):
        check_metadata({"X-Object-Meta-" + "n" * 129: "v"}, "object", LIMITS)
    with pytest.raises(Invalid, match="longer than 256"):
        check_metadata({"X-Container-Meta-A": "v" * 257}, "container", LIMITS)
    with pytest.raises(Invalid, match="Too many"):
        check_metadata({f"X-Account-Meta-{i}": "v" for i in range(91)}, "account", LIMITS)
    with pytest.raises(Invalid, match="too large"):
        check_metadata({f"X-Object-Meta-{i:03}": "v" * 250 for i in range(17)}, "object", LIMITS)
    with pytest.raises(Invalid, match="cannot be empty"):
        check_metadata({"X-Object-Meta-": "v"}, "object", LIMITS)


def test_name_limits() -> None:
    check_container_name("c" * 256, LIMITS)
    with pytest.raises(Invalid):
        check_container_name("c" * 257, LIMITS)
    with pytest.raises(Invalid, match="slashes"):
        check_container_name("a/b", LIMITS)
    with pytest.raises(Invalid):
        check_object_name("o" * 1025, LIMITS)


def test_listing_formats() -> None:
    entries = [
        {"name": "a&b", "hash": "h", "bytes": 1, "content_type": "t", "last_modified": 0.5},
        {"subdir": "d/"},
    ]
    body, media = listings.render(entries, "plain", kind="container", name="c")
    assert (body, media) == (b"a&b\nd/\n", "text/plain; charset=utf-8")
    body, _ = listings.render(entries, "json", kind="container", name="c")
    assert json.loads(body)[0]["last_modified"] == "1970-01-01T00:00:00.500000"
    body, media = listings.render(entries, "xml", kind="container", name="c")
    assert media.startswith("application/xml")
    assert b"<object><name>a&amp;b</name>" in body and b'<subdir name="d/">' in body


@pytest.mark.parametrize(
    ("query", "accept", "fmt"),
    [
        ({}, None, "plain"),
        ({"format": "json"}, None, "json"),
        ({"format": "XML"}, None, "xml"),
        ({}, "application/json", "json"),
        ({}, "text/xml", "xml"),
        ({}, "*/*", "plain"),
        ({"format": "json"}, "image/png", "json"),
    ],
)
def test_listing_format_choice(query: dict[str, str], accept: str | None, fmt: str) -> None:
    assert listings.chosen_format(query, accept) == fmt


def test_an_unacceptable_accept_is_refused() -> None:
    with pytest.raises(listings.NotAcceptable):
        listings.chosen_format({}, "image/png")


def reply(status: int) -> Reply:
    return Reply(Device(0, 1, 1, "127.0.0.1", 6200, "d", 1.0), status)


def test_a_quorum_decides() -> None:
    assert [quorum(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]
    assert best_status([reply(201), reply(201)], 3) == 201
    assert best_status([reply(201), reply(202), reply(404)], 3) == 201
    assert best_status([reply(201)], 3) == 503  # one of three is not enough
    assert best_status([reply(404), reply(404), reply(201)], 3) == 404
    assert best_status([reply(409), reply(404), reply(201)], 3) == 503
