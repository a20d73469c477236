"""Static websites from a container, for anonymous readers (or ``X-Web-Mode: true``).

The container's metadata sets it up: ``Web-Index`` (the page a directory
serves), ``Web-Listings`` (HTML listings of directories without an index),
``Web-Listings-CSS`` and ``Web-Error`` (``<status><Web-Error>`` is served on 404
and 401). A directory asked for without its slash is redirected to it.
"""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote

from starlette.responses import RedirectResponse, Response

from overcast.object.proxy import info
from overcast.object.proxy.errors import error
from overcast.object.proxy.info import ContainerInfo
from overcast.object.proxy.middleware.base import Middleware
from overcast.object.proxy.request import ProxyRequest, discard, drain, object_path

LISTING_BYTES = 64 * 1024 * 1024
DEFAULT_CSS = (
    "body {font-family: sans-serif} table {border-collapse: collapse} "
    "td, th {padding: 0 1em} .colsize {text-align: right}"
)


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "yes", "on", "1", "t", "y")


class StaticWeb(Middleware):
    name = "staticweb"

    async def __call__(self, request: ProxyRequest) -> Response:
        if request.method not in ("GET", "HEAD"):
            return await self.app(request)
        web_mode = request.headers.get("x-web-mode")
        if web_mode is not None and not _true(web_mode):
            return await self.app(request)
        if request.caller.auth is not None and web_mode is None:
            return await self.app(request)
        where = request.container_target()
        if where is None:
            return await self.app(request)
        account, container, obj = where
        site = await info.container_info(self.service, request.environ, account, container)
        if site is None or not (site.meta("web-index") or _true(site.meta("web-listings"))):
            if obj is None and site is not None and _true(web_mode):
                return error(404)
            return await self.app(request)
        directory = obj or ""
        if directory and not directory.endswith("/"):
            return await self.object(request, site, account, container, directory)
        if not request.path.endswith("/"):
            return _redirect(request, request.path + "/")
        return await self.directory(request, site, account, container, directory)

    async def object(
        self, request: ProxyRequest, site: ContainerInfo, account: str, container: str, obj: str
    ) -> Response:
        response = await self.app(request)
        if response.status_code != 404:
            return await self.errors(request, site, account, container, response)
        # a directory without its slash: redirect when it has anything under it
        await discard(response)
        listing = await self.listing(request, account, container, f"{obj}/", limit=1)
        if listing:
            return _redirect(request, request.path + "/")
        return await self.error_page(request, site, account, container, 404)

    async def directory(
        self,
        request: ProxyRequest,
        site: ContainerInfo,
        account: str,
        container: str,
        prefix: str,
    ) -> Response:
        index = site.meta("web-index")
        if index:
            page = await self.app(
                request.sub(
                    request.method,
                    object_path(account, container, prefix + index),
                    source="staticweb",
                )
            )
            if page.status_code != 404:
                return page
            await discard(page)
        if not _true(site.meta("web-listings")):
            return await self.error_page(request, site, account, container, 404)
        entries = await self.listing(request, account, container, prefix)
        if entries is None:
            return await self.error_page(request, site, account, container, 401)
        if prefix and not entries:
            return await self.error_page(request, site, account, container, 404)
        body = render(request.path, prefix, entries, site.meta("web-listings-css"))
        return Response(body, media_type="text/html; charset=UTF-8")

    async def listing(
        self,
        request: ProxyRequest,
        account: str,
        container: str,
        prefix: str,
        limit: int | None = None,
    ) -> list[dict[str, Any]] | None:
        query = {"format": "json", "prefix": prefix, "delimiter": "/"}
        if limit is not None:
            query["limit"] = str(limit)
        response = await self.app(
            request.sub("GET", object_path(account, container), query=query, source="staticweb")
        )
        if response.status_code >= 300:
            await discard(response)
            return None
        found: list[dict[str, Any]] = json.loads(await drain(response, LISTING_BYTES) or b"[]")
        return found

    async def errors(
        self,
        request: ProxyRequest,
        site: ContainerInfo,
        account: str,
        container: str,
        response: Response,
    ) -> Response:
        if response.status_code in (401, 404) and site.meta("web-error"):
            await discard(response)
            return await self.error_page(request, site, account, container, response.status_code)
        return response

    async def error_page(
        self, request: ProxyRequest, site: ContainerInfo, account: str, container: str, status: int
    ) -> Response:
        page_name = site.meta("web-error")
        if page_name:
            page = await self.app(
                request.sub(
                    "GET",
                    object_path(account, container, f"{status}{page_name}"),
                    source="staticweb",
                )
            )
            if page.status_code == 200:
                page.status_code = status
                return page
            await discard(page)
        return error(status)


def _redirect(request: ProxyRequest, path: str) -> Response:
    host = request.headers.get("host", "")
    location = f"http://{host}{quote(path)}" if host else quote(path)
    return RedirectResponse(location, status_code=301)


def render(path: str, prefix: str, entries: list[dict[str, Any]], css: str | None) -> str:
    """An HTML page listing a directory's subdirectories and objects."""
    if css:
        depth = prefix.count("/")
        href = css if css.startswith("/") or "://" in css else "../" * depth + css
        style = f'<link rel="stylesheet" type="text/css" href="{escape(href)}" />'
    else:
        style = f"<style>{DEFAULT_CSS}</style>"
    title = escape(f"Listing of {path}")
    rows = ['<tr id="heading"><th class="colname">Name</th><th class="colsize">Size</th>'
            '<th class="coldate">Date</th></tr>']  # fmt: skip
    if prefix:
        rows.append(_row("parent", '<a href="../">../</a>', "&nbsp;", "&nbsp;", row_id="parent"))
    for entry in entries:
        name = entry.get("subdir") or entry.get("name", "")
        shown = name[len(prefix) :]
        link = f'<a href="{escape(quote(shown))}">{escape(shown)}</a>'
        if "subdir" in entry:
            size, date, kind = "&nbsp;", "&nbsp;", "subdir"
        else:
            size = str(entry.get("bytes", ""))
            modified = str(entry.get("last_modified", ""))
            date = escape(_date(modified))
            kind = "type-" + escape(str(entry.get("content_type", "")).split("/")[0])
        rows.append(_row(kind, link, size, date))
    return (
        "<!DOCTYPE html>\n<html>\n <head>\n"
        f"  <title>{title}</title>\n  {style}\n </head>\n <body>\n"
        f'  <h1 id="title">{title}</h1>\n  <table id="listing">\n   '
        + "\n   ".join(rows)
        + "\n  </table>\n </body>\n</html>\n"
    )


def _row(kind: str, link: str, size: str, date: str, row_id: str = "") -> str:
    named = f' id="{row_id}"' if row_id else ""
    cells = (
        f'<td class="colname">{link}</td><td class="colsize">{size}</td>'
        f'<td class="coldate">{date}</td>'
    )
    return f'<tr{named} class="item {kind}">{cells}</tr>'


def _date(modified: str) -> str:
    try:
        return datetime.fromisoformat(modified).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return modified
