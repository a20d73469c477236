"""How identity resources look on the wire, in Keystone's shapes.

Every function takes the API's base URL (``http://host:5000``) for links and
returns plain dicts; the same function renders a resource in a create, show
and list response, so the three are always equal (Tempest compares them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from overcast.common.clock import isotime
from overcast.identity import models
from overcast.identity.models import GLOBAL_ROLE, ROOT_DOMAIN


def link(base: str, path: str) -> dict[str, str]:
    return {"self": f"{base}/v3/{path}"}


def collection(
    key: str, items: list[dict[str, Any]], self_url: str, next_url: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        key: items,
        "links": {"next": next_url, "self": self_url, "previous": None},
    }
    if next_url:
        body["truncated"] = True
    return body


def domain(base: str, row: models.Project, tags: Sequence[str]) -> dict[str, Any]:
    return {
        **row.extra,
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "enabled": row.enabled,
        "tags": sorted(tags),
        "options": row.options,
        "links": link(base, f"domains/{row.id}"),
    }


def project(base: str, row: models.Project, tags: Sequence[str]) -> dict[str, Any]:
    return {
        **row.extra,
        "id": row.id,
        "name": row.name,
        "domain_id": None if row.domain_id == ROOT_DOMAIN else row.domain_id,
        "description": row.description,
        "enabled": row.enabled,
        "parent_id": row.parent_id,
        "is_domain": row.is_domain,
        "tags": sorted(tags),
        "options": row.options,
        "links": link(base, f"projects/{row.id}"),
    }


def user(base: str, row: models.User, password_expires_at: datetime | None) -> dict[str, Any]:
    body: dict[str, Any] = {**row.extra}
    if row.description is not None:
        body["description"] = row.description
    body.update(
        id=row.id,
        name=row.name,
        domain_id=row.domain_id,
        enabled=row.enabled,
        password_expires_at=_time(password_expires_at),
        options=row.options,
        links=link(base, f"users/{row.id}"),
    )
    if row.default_project_id is not None:
        body["default_project_id"] = row.default_project_id
    return body


def group(base: str, row: models.Group) -> dict[str, Any]:
    return {
        **row.extra,
        "id": row.id,
        "name": row.name,
        "domain_id": row.domain_id,
        "description": row.description if row.description is not None else "",
        "links": link(base, f"groups/{row.id}"),
    }


def role(base: str, row: models.Role) -> dict[str, Any]:
    return {
        **row.extra,
        "id": row.id,
        "name": row.name,
        "domain_id": None if row.domain_id == GLOBAL_ROLE else row.domain_id,
        "description": row.description,
        "options": row.options,
        "links": link(base, f"roles/{row.id}"),
    }


def role_ref(base: str, row: models.Role) -> dict[str, Any]:
    return {"id": row.id, "links": link(base, f"roles/{row.id}"), "name": row.name}


def region(base: str, row: models.Region) -> dict[str, Any]:
    return {
        **row.extra,
        "id": row.id,
        "description": row.description,
        "parent_region_id": row.parent_region_id,
        "links": link(base, f"regions/{row.id}"),
    }


def service(base: str, row: models.Service) -> dict[str, Any]:
    return {
        **row.extra,
        "id": row.id,
        "type": row.type,
        "enabled": row.enabled,
        "links": link(base, f"services/{row.id}"),
    }


def endpoint(base: str, row: models.Endpoint) -> dict[str, Any]:
    return {
        **row.extra,
        "id": row.id,
        "interface": row.interface,
        "region_id": row.region_id,
        "service_id": row.service_id,
        "url": row.url,
        "enabled": row.enabled,
        "region": row.region_id,
        "links": link(base, f"endpoints/{row.id}"),
    }


def endpoint_group(base: str, row: models.EndpointGroup) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "filters": row.filters,
        "links": link(base, f"OS-EP-FILTER/endpoint_groups/{row.id}"),
    }


def credential(base: str, row: models.Credential, blob: str) -> dict[str, Any]:
    return {
        **row.extra,
        "id": row.id,
        "user_id": row.user_id,
        "project_id": row.project_id,
        "type": row.type,
        "blob": blob,
        "links": link(base, f"credentials/{row.id}"),
    }


def ec2_credential(base: str, row: models.Credential, blob: Mapping[str, Any]) -> dict[str, Any]:
    access = blob.get("access")
    return {
        "user_id": row.user_id,
        "tenant_id": row.project_id,
        "access": access,
        "secret": blob.get("secret"),
        "trust_id": blob.get("trust_id"),
        "links": link(base, f"users/{row.user_id}/credentials/OS-EC2/{access}"),
    }


def policy(base: str, row: models.Policy) -> dict[str, Any]:
    return {
        **row.extra,
        "id": row.id,
        "blob": row.blob,
        "type": row.type,
        "links": link(base, f"policies/{row.id}"),
    }


def consumer(base: str, row: models.Consumer) -> dict[str, Any]:
    return {
        **row.extra,
        "id": row.id,
        "description": row.description,
        "links": link(base, f"OS-OAUTH1/consumers/{row.id}"),
    }


def access_rule(base: str, row: models.AccessRule, *, links: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id,
        "service": row.service,
        "path": row.path,
        "method": row.method,
    }
    if links:
        body["links"] = link(base, f"access_rules/{row.id}")
    return body


def application_credential(
    base: str,
    row: models.ApplicationCredential,
    roles: Iterable[models.Role],
    rules: Iterable[models.AccessRule],
) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "user_id": row.user_id,
        "project_id": row.project_id,
        "system": row.system,
        "expires_at": (row.expires_at.replace(tzinfo=None).isoformat() if row.expires_at else None),
        "unrestricted": row.unrestricted,
        "roles": [_role_summary(r) for r in roles],
        "access_rules": [access_rule(base, r, links=False) for r in rules],
        "links": link(base, f"application_credentials/{row.id}"),
    }


def trust(
    base: str, row: models.Trust, roles: Iterable[models.Role] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id,
        "trustor_user_id": row.trustor_user_id,
        "trustee_user_id": row.trustee_user_id,
        "project_id": row.project_id,
        "impersonation": row.impersonation,
        "expires_at": _time(row.expires_at),
        "remaining_uses": row.remaining_uses,
        "deleted_at": _time(row.deleted_at),
        "redelegated_trust_id": row.redelegated_trust_id,
        "redelegation_count": row.redelegation_count or 0,
        "links": {"self": f"{base}/v3/OS-TRUST/trusts/{row.id}"},
    }
    if roles is not None:
        body["roles"] = [role(base, r) for r in roles]
        body["roles_links"] = {"self": f"{base}/v3/{row.id}/roles", "next": None, "previous": None}
    return body


def _role_summary(row: models.Role) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "domain_id": None if row.domain_id == GLOBAL_ROLE else row.domain_id,
        "description": row.description,
        "options": row.options,
    }


def _time(moment: datetime | None) -> str | None:
    return isotime(moment) if moment is not None else None
