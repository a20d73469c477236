"""The proxy's cache of account and container headers."""

from __future__ import annotations

from pathlib import Path

from overcast.common.coherence import FileCounter
from overcast.object.proxy.service import InfoCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Servers:
    """Counts the HEADs a cache makes; answers what ``found`` holds."""

    def __init__(self) -> None:
        self.asked = 0
        self.found: dict[str, str] | None = {"x-container-read": ".r:*"}

    async def head(self) -> dict[str, str] | None:
        self.asked += 1
        return None if self.found is None else dict(self.found)


async def test_headers_are_kept_for_their_seconds(tmp_path: Path) -> None:
    clock, servers = Clock(), Servers()
    cache = InfoCache(FileCounter(tmp_path / "g"), 10, clock)
    assert await cache.headers("c", servers.head) == {"x-container-read": ".r:*"}
    clock.now += 9.9
    await cache.headers("c", servers.head)
    assert servers.asked == 1
    clock.now += 0.1
    servers.found = {}
    assert await cache.headers("c", servers.head) == {}
    assert servers.asked == 2


async def test_a_change_in_another_process_empties_it(tmp_path: Path) -> None:
    servers = Servers()
    mine = InfoCache(FileCounter(tmp_path / "g"), 10, Clock())
    theirs = InfoCache(FileCounter(tmp_path / "g"), 10, Clock())
    await mine.headers("c", servers.head)
    await theirs.changed()
    servers.found = {"x-container-read": ""}
    assert await mine.headers("c", servers.head) == {"x-container-read": ""}


async def test_what_does_not_exist_is_asked_again(tmp_path: Path) -> None:
    servers = Servers()
    servers.found = None
    cache = InfoCache(FileCounter(tmp_path / "g"), 10, Clock())
    assert await cache.headers("c", servers.head) is None
    servers.found = {}
    assert await cache.headers("c", servers.head) == {}


async def test_no_seconds_means_no_cache(tmp_path: Path) -> None:
    servers = Servers()
    cache = InfoCache(FileCounter(tmp_path / "g"), 0, Clock())
    await cache.headers("c", servers.head)
    await cache.headers("c", servers.head)
    assert servers.asked == 2
