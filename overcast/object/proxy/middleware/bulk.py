"""Bulk operations: extract an archive into objects, or delete many paths at once.

* ``PUT /v1/<account>[/<container>[/<prefix>]]?extract-archive=tar|tar.gz|tar.bz2``
  stores every file of the archive (under an account, the first directory of
  each path names its container, made when missing).
* ``DELETE`` (or ``POST``) ``/v1/<account>?bulk-delete`` with one URL-quoted
  ``<container>[/<object>]`` per line deletes each, in order.

Both answer 200 with a report whose ``Response Status`` tells how it went.
"""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import AsyncIterator
from typing import IO, Any, Literal
from urllib.parse import unquote

from starlette.responses import Response

from overcast.common.threads import in_thread
from overcast.object.proxy.errors import error
from overcast.object.proxy.middleware.base import Middleware
from overcast.object.proxy.middleware.bulk_results import Results
from overcast.object.proxy.request import BadPath, ProxyRequest, TooLarge, discard, object_path

MAX_CONTAINERS = 10_000
MAX_FAILED_EXTRACTIONS = 1000
MAX_DELETES = 10_000
MAX_FAILED_DELETES = 1000
MAX_PATH_LENGTH = 1024 + 256 + 2
ReadMode = Literal["r:", "r:gz", "r:bz2"]
MODES: dict[str, ReadMode] = {"tar": "r:", "tar.gz": "r:gz", "tar.bz2": "r:bz2"}
SPOOL = 16 * 1024 * 1024
CHUNK = 1024 * 1024


class Bulk(Middleware):
    def capabilities(self) -> dict[str, dict[str, Any]]:
        return {
            "bulk_upload": {
                "max_containers_per_extraction": MAX_CONTAINERS,
                "max_failed_extractions": MAX_FAILED_EXTRACTIONS,
            },
            "bulk_delete": {
                "max_deletes_per_request": MAX_DELETES,
                "max_failed_deletes": MAX_FAILED_DELETES,
            },
        }

    async def __call__(self, request: ProxyRequest) -> Response:
        if request.method == "PUT" and "extract-archive" in request.query:
            return await self.extract(request)
        if request.method in ("DELETE", "POST") and "bulk-delete" in request.query:
            return await self.delete(request)
        return await self.app(request)

    # -- extract ----------------------------------------------------------------------

    async def extract(self, request: ProxyRequest) -> Response:
        mode = MODES.get(request.query["extract-archive"])
        if mode is None:
            return error(400, "Unsupported archive format")
        try:
            account, container, prefix = request.split()
        except BadPath:
            return error(404)
        results = Results(extract=True)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
            async for chunk in request.body:
                await in_thread(spool.write, chunk)
            spool.seek(0)
            try:
                archive = await in_thread(_open, spool, mode)
            except (tarfile.TarError, EOFError, OSError) as exc:
                results.fail(400, f"Invalid Tar File: {exc}")
                return results.response(request.headers.get("accept"))
            with archive:
                await self.store(request, archive, results, account, container, prefix)
        if results.status == 200 and not results.errors:
            results.status = 201 if results.done else 400
            if not results.done:
                results.body = "Invalid Tar File: No Valid Files"
        return results.response(request.headers.get("accept"))

    async def store(
        self,
        request: ProxyRequest,
        archive: tarfile.TarFile,
        results: Results,
        account: str,
        container: str | None,
        prefix: str | None,
    ) -> None:
        made: set[str] = set()
        for member in archive.getmembers():
            if not member.isfile():
                continue
            name = member.name
            while name.startswith("./"):
                name = name[2:]
            name = name.lstrip("/")
            path = "/".join(part for part in (container, prefix, name) if part)
            where, _, obj = path.partition("/")
            if not where or not obj:
                results.errors.append((path, "400 Bad Request"))
                continue
            if where not in made:
                if len(made) >= MAX_CONTAINERS:
                    results.fail(400, f"More than {MAX_CONTAINERS} containers to create")
                    return
                put = request.sub("PUT", object_path(account, where), source="bulk")
                response = await self.app(put)
                await discard(response)
                if response.status_code >= 300:
                    results.errors.append((where, f"{response.status_code} container"))
                    continue
                made.add(where)
            source = archive.extractfile(member)
            if source is None:
                continue
            headers = {"content-length": str(member.size)}
            put = request.sub(
                "PUT",
                object_path(account, where, obj),
                headers=headers,
                body=_read(source),
                source="bulk",
            )
            response = await self.app(put)
            await discard(response)
            results.count(f"/{where}/{obj}", response.status_code)
            if len(results.errors) >= MAX_FAILED_EXTRACTIONS:
                results.fail(400, "Too many failures")
                return

    # -- delete -----------------------------------------------------------------------

    async def delete(self, request: ProxyRequest) -> Response:
        try:
            account, _, _ = request.split()
            text = (await request.read(MAX_DELETES * MAX_PATH_LENGTH)).decode()
        except BadPath:
            return error(404)
        except (TooLarge, UnicodeDecodeError):
            return error(413, f"Maximum Bulk Deletes: {MAX_DELETES} per request")
        paths = [unquote(line.strip()) for line in text.splitlines() if line.strip()]
        if len(paths) > MAX_DELETES:
            return error(413, f"Maximum Bulk Deletes: {MAX_DELETES} per request")
        results = Results()
        for path in paths:
            container, _, obj = path.lstrip("/").partition("/")
            target = object_path(account, container, obj or None)
            response = await self.app(request.sub("DELETE", target, source="bulk"))
            await discard(response)
            results.count(f"/{path.lstrip('/')}", response.status_code)
            if len(results.errors) >= MAX_FAILED_DELETES:
                results.fail(400, "Too many failures")
                break
        return results.response(request.headers.get("accept"))


def _open(spool: IO[bytes], mode: ReadMode) -> tarfile.TarFile:
    return tarfile.open(fileobj=spool, mode=mode)


async def _read(source: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := await in_thread(source.read, CHUNK):
        yield chunk
