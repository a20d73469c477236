"""Form posts: a browser uploads files straight into a container with an HTML form
signed by the account's or the container's ``Temp-URL-Key``.

The form (``multipart/form-data``, POSTed to ``/v1/<account>/<container>[/<prefix>]``)
carries ``redirect``, ``max_file_size``, ``max_file_count``, ``expires`` and
``signature`` — an HMAC of ``<path>\\n<redirect>\\n<max_file_size>\\n<max_file_count>\\n<expires>``
— then the files, each stored as ``<prefix><filename>``. The answer is a 303 to
``redirect`` with ``?status=&message=``, or without a redirect the status itself.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from html import escape
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.responses import Response

from overcast.object.proxy import info
from overcast.object.proxy.middleware.base import Middleware
from overcast.object.proxy.middleware.signing import keys_of, valid
from overcast.object.proxy.request import ProxyRequest, object_path

FIELDS = ("redirect", "max_file_size", "max_file_count", "expires", "signature")
CHUNK = 65536


class FormError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class FormPost(Middleware):
    name = "formpost"

    async def __call__(self, request: ProxyRequest) -> Response:
        media = request.headers.get("content-type", "")
        if request.method != "POST" or not media.lower().startswith("multipart/form-data"):
            return await self.app(request)
        where = request.container_target()
        if where is None:
            return await self.app(request)
        account, container, prefix = where
        redirect = ""
        try:
            form = await self.parse(request)
            redirect = str(form.get("redirect") or "")
            await self.check(request, form, account, container)
            status, message = await self.upload(request, form, account, container, prefix or "")
        except FormError as exc:
            status, message = exc.status, f"FormPost: {exc}"
        return answer(status, message, redirect)

    async def parse(self, request: ProxyRequest) -> FormData:
        headers = Headers(raw=[(k.encode(), v.encode()) for k, v in request.headers.items()])
        try:
            return await MultiPartParser(headers, _generator(request.body)).parse()
        except MultiPartException as exc:
            raise FormError(400, f"invalid form: {exc}") from exc

    async def check(
        self, request: ProxyRequest, form: FormData, account: str, container: str
    ) -> None:
        values = {name: str(form.get(name) or "") for name in FIELDS}
        expires = values["expires"]
        if not expires.isdigit():
            raise FormError(400, "expires invalid")
        if int(expires) < time.time():
            raise FormError(401, "Form Expired")
        for name in ("max_file_size", "max_file_count"):
            if not values[name].isdigit():
                raise FormError(400, f"{name} invalid")
        body = "\n".join([request.path, *(values[name] for name in FIELDS[:4])])
        env = request.environ
        keys = keys_of(
            await info.account_info(self.service, env, account),
            await info.container_info(self.service, env, account, container),
        )
        if not valid(values["signature"], [body], keys):
            raise FormError(401, "Invalid Signature")

    async def upload(
        self, request: ProxyRequest, form: FormData, account: str, container: str, prefix: str
    ) -> tuple[int, str]:
        files = [v for _, v in form.multi_items() if isinstance(v, UploadFile) and v.filename]
        if not files:
            raise FormError(400, "no files to process")
        if len(files) > int(str(form.get("max_file_count"))):
            raise FormError(400, "max file count exceeded")
        limit = int(str(form.get("max_file_size")))
        if any((f.size or 0) > limit for f in files):
            raise FormError(400, "max_file_size exceeded")
        expiry = {
            f"x-delete-{when}": str(form.get(f"x_delete_{when}"))
            for when in ("at", "after")
            if form.get(f"x_delete_{when}")
        }
        status = 201
        for upload in files:
            headers = {
                "content-type": upload.content_type or "application/octet-stream",
                "content-length": str(upload.size or 0),
                **expiry,
            }
            put = request.sub(
                "PUT",
                object_path(account, container, prefix + (upload.filename or "")),
                headers=headers,
                body=_read(upload),
                source="formpost",
                authorized=True,
            )
            response = await self.app(put)
            status = response.status_code
            if status >= 300:
                return status, f"upload of {upload.filename!r} failed"
        return status, ""


async def _generator(stream: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    async for chunk in stream:
        yield chunk


async def _read(upload: UploadFile) -> Any:
    await upload.seek(0)
    while chunk := await upload.read(CHUNK):
        yield chunk


def answer(status: int, message: str, redirect: str) -> Response:
    if redirect:
        glue = "&" if "?" in redirect else "?"
        location = f"{redirect}{glue}status={status}&message={quote(message)}"
        link = f'<a href="{escape(location)}">Click to continue...</a>'
        body = f"<html><body><p>{link}</p></body></html>"
        return Response(
            body, status_code=303, headers={"Location": location}, media_type="text/html"
        )
    body = f"<html><body><h1>{status}</h1><p>{escape(message)}</p></body></html>" if message else ""
    return Response(body or f"{status}", status_code=status, media_type="text/html")
