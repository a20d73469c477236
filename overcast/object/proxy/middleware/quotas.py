"""Container and account quotas: uploads that would pass a limit are refused (413).

* Container: ``X-Container-Meta-Quota-Bytes`` / ``-Quota-Count``, set by the
  container's owner.
* Account: ``X-Account-Quota-Bytes`` / ``-Quota-Count`` (also per storage policy,
  ``X-Account-Quota-Bytes-Policy-<name>``) and the older
  ``X-Account-Meta-Quota-Bytes``. Only a ``ResellerAdmin`` may set them: the
  account's owner is the one they limit. The new-style ones are kept as account
  sysmeta, so no other header can change them.

Counts come from the container and account servers, which learn of each upload
as it lands (the account a moment later), so a burst of parallel uploads can
pass a limit by a little — as in Swift.
"""

from __future__ import annotations

import re

from starlette.responses import Response

from overcast.object.proxy import info
from overcast.object.proxy.errors import error
from overcast.object.proxy.info import AccountInfo
from overcast.object.proxy.middleware.base import Middleware
from overcast.object.proxy.request import BadPath, ProxyRequest

OVER = "Upload exceeds quota."
ACCOUNT_QUOTA = re.compile(r"^x-account-quota-(bytes|count)(?:-policy-(.+))?$")
LEGACY_ACCOUNT_QUOTA = "x-account-meta-quota-bytes"
SYSMETA = "x-account-sysmeta-quota-"


def _length(request: ProxyRequest) -> int:
    length = request.headers.get("content-length", "0")
    return int(length) if length.isdigit() else 0


def _bad_number(value: str) -> bool:
    return value != "" and not value.isdigit()


class ContainerQuotas(Middleware):
    name = "container_quotas"

    async def __call__(self, request: ProxyRequest) -> Response:
        where = request.container_target()
        if where is None:
            return await self.app(request)
        account, container, obj = where
        if obj is None:
            if request.method in ("PUT", "POST"):
                for what in ("bytes", "count"):
                    value = request.headers.get(f"x-container-meta-quota-{what}")
                    if value is not None and _bad_number(value):
                        return error(400, f"Invalid {what} quota.")
            return await self.app(request)
        if request.method == "PUT":
            found = await info.container_info(self.service, request.environ, account, container)
            if found is not None and (found.meta("quota-bytes") or found.meta("quota-count")):
                # a quota is measured against the counts of now, never a cached one's
                found = await info.container_info(
                    self.service, request.environ, account, container, fresh=True
                )
            if found is not None:
                limits = [
                    (found.meta("quota-bytes"), found.bytes_used + _length(request)),
                    (found.meta("quota-count"), found.object_count + 1),
                ]
                if _over(limits):
                    return error(413, OVER)
        return await self.app(request)


class AccountQuotas(Middleware):
    name = "account_quotas"

    async def __call__(self, request: ProxyRequest) -> Response:
        try:
            account, container, obj = request.split()
        except BadPath:
            return await self.app(request)
        if container is None:
            if request.method in ("PUT", "POST"):
                refused = self.set_quotas(request)
                if refused is not None:
                    return refused
            response = await self.app(request)
            if request.method in ("GET", "HEAD"):
                self.show(response)
            return response
        if obj is not None and request.method == "PUT":
            refused = await self.check(request, account, container)
            if refused is not None:
                return refused
        return await self.app(request)

    def set_quotas(self, request: ProxyRequest) -> Response | None:
        """Only a reseller sets quotas; the new-style ones become sysmeta."""
        headers = request.headers
        for name in list(headers.keys()):
            match = ACCOUNT_QUOTA.match(name)
            if name != LEGACY_ACCOUNT_QUOTA and match is None:
                continue
            if not request.caller.reseller:
                return error(403)
            value = headers[name]
            if _bad_number(value):
                return error(400, f"Invalid quota value for {name}")
            if match is None:
                continue
            what, policy_name = match.groups()
            suffix = what
            if policy_name is not None:
                try:
                    policy = self.service.policy_named(policy_name)
                except ValueError as exc:
                    return error(400, str(exc))
                suffix = f"{what}-policy-{policy.index}"
            del headers[name]
            headers[f"{SYSMETA}{suffix}"] = value
        return None

    def show(self, response: Response) -> None:
        for name in [n for n in response.headers if n.startswith(SYSMETA)]:
            what, _, index = name[len(SYSMETA) :].partition("-policy-")
            shown = f"X-Account-Quota-{what.title()}"
            if index:
                shown += f"-Policy-{self.service.policy_of(index).name}"
            response.headers[shown] = response.headers[name]

    async def check(self, request: ProxyRequest, account: str, container: str) -> Response | None:
        found = await info.account_info(self.service, request.environ, account)
        where = await info.container_info(self.service, request.environ, account, container)
        if found is None or where is None:
            return None
        if any(name == LEGACY_ACCOUNT_QUOTA or name.startswith(SYSMETA) for name in found.headers):
            # a quota is measured against the counts of now, never a cached one's
            found = await info.account_info(self.service, request.environ, account, fresh=True)
            if found is None:
                return None
        length = _length(request)
        policy = where.policy.index
        limits: list[tuple[str | None, int]] = [
            (found.headers.get(LEGACY_ACCOUNT_QUOTA), found.bytes_used + length),
            (found.headers.get(f"{SYSMETA}bytes"), found.bytes_used + length),
            (found.headers.get(f"{SYSMETA}count"), found.object_count + 1),
            (
                found.headers.get(f"{SYSMETA}bytes-policy-{policy}"),
                _policy_usage(found, policy, "bytes-used") + length,
            ),
            (
                found.headers.get(f"{SYSMETA}count-policy-{policy}"),
                _policy_usage(found, policy, "object-count") + 1,
            ),
        ]
        return error(413, OVER) if _over(limits) else None


def _over(limits: list[tuple[str | None, int]]) -> bool:
    """Whether any (quota, usage after the upload) pair passes its quota."""
    return any(quota and quota.isdigit() and wanted > int(quota) for quota, wanted in limits)


def _policy_usage(found: AccountInfo, policy: int, what: str) -> int:
    value = found.headers.get(f"x-backend-policy-{policy}-{what}", "0")
    return int(value) if value.isdigit() else 0
