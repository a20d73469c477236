"""Who may do what to an account, as Swift's keystoneauth decides it.

* A token scoped to project P with an operator role (``admin`` or ``member``)
  owns account ``AUTH_P``: it may do anything there.
* ``ResellerAdmin`` may do anything in any account.
* Anyone else needs a container ACL: ``X-Container-Read`` / ``X-Container-Write``
  list referrers (``.r:*``, ``.r:example.com``, ``.r:-bad.com``), ``.rlistings``
  (referrers may list too), ``project:user`` pairs (ids or names, ``*`` for any)
  and role names.

A request that no rule allows is 401 without a token and 403 with one.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from overcast.common.auth.context import AuthInfo

OPERATOR_ROLES = frozenset({"admin", "member"})
RESELLER_ROLE = "reselleradmin"
ACCOUNT_PREFIX = "AUTH_"


@dataclass(frozen=True)
class Caller:
    auth: AuthInfo | None
    referrer: str | None = None

    @property
    def roles(self) -> set[str]:
        return {role.lower() for role in self.auth.roles} if self.auth else set()

    def owns(self, account: str) -> bool:
        if self.auth is None:
            return False
        if RESELLER_ROLE in self.roles:
            return True
        mine = self.auth.project_id and account == f"{ACCOUNT_PREFIX}{self.auth.project_id}"
        return bool(mine and self.roles & OPERATOR_ROLES)

    @property
    def reseller(self) -> bool:
        return RESELLER_ROLE in self.roles

    def denied(self) -> int:
        """The status of a refusal: 401 to the anonymous, 403 to a known caller."""
        return 403 if self.auth is not None else 401


def acl_items(text: str | None) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def allows(acl: str | None, caller: Caller, *, listing: bool = False) -> bool:
    """Whether a container ACL lets ``caller`` in (``listing``: to list the container)."""
    items = acl_items(acl)
    if _referrer_allowed(items, caller.referrer) and (not listing or ".rlistings" in items):
        return True
    auth = caller.auth
    if auth is None:
        return False
    for item in items:
        if item.startswith("."):
            continue
        if ":" in item:
            project, user = item.split(":", 1)
            if project in ("*", auth.project_id, auth.project_name) and user in (
                "*",
                auth.user_id,
                auth.user_name,
            ):
                return True
        elif item.lower() in caller.roles:
            return True
    return False


def _referrer_allowed(items: list[str], referrer: str | None) -> bool:
    host = (urlsplit(referrer).hostname or "") if referrer else ""
    allowed = False
    for item in items:
        if not item.startswith(".r:"):
            continue
        rule = item[3:]
        negative = rule.startswith("-")
        rule = rule.removeprefix("-")
        matches = rule == "*" or (
            bool(host) and (host == rule.lstrip(".") or host.endswith("." + rule.lstrip(".")))
        )
        if matches:
            allowed = not negative
    return allowed
