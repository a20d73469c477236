"""``GET /v3/role_assignments``: every assignment, or (``effective``) what they amount to.

The effective view expands group assignments into one per member, inherited
assignments into one per project they reach, and implied roles into one per
implied role; domain-specific roles drop out (their implied global roles stay).
Filters apply after the expansion.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from overcast.common.api import Context, JSONResponse, Router, json_response
from overcast.common.api.errors import BadRequest
from overcast.identity import assignments, models, views
from overcast.identity.assignments import RoleGraph
from overcast.identity.handlers.common import (
    Base,
    Identity,
    filter_target,
    in_memory_page,
    page_of,
    self_url,
    truthy,
)
from overcast.identity.models import GLOBAL_ROLE, ROOT_DOMAIN

router = Router()


@dataclass(frozen=True)
class Entry:
    actor_kind: str  # "user" or "group"
    actor_id: str
    target_kind: str  # "project", "domain" or "system"
    target_id: str
    role_id: str
    inherited: bool
    link: str
    membership: str | None = None
    prior_role: str | None = None


def _link(base: str, row: models.Assignment) -> str:
    actor = "users" if row.kind.startswith("User") else "groups"
    if row.kind.endswith("System"):
        return f"{base}/v3/system/{actor}/{row.actor_id}/roles/{row.role_id}"
    target = "projects" if row.kind.endswith("Project") else "domains"
    if row.inherited:
        return (
            f"{base}/v3/OS-INHERIT/{target}/{row.target_id}/{actor}/{row.actor_id}"
            f"/roles/{row.role_id}/inherited_to_projects"
        )
    return f"{base}/v3/{target}/{row.target_id}/{actor}/{row.actor_id}/roles/{row.role_id}"


def _entry(base: str, row: models.Assignment) -> Entry:
    actor = "user" if row.kind.startswith("User") else "group"
    target = row.kind.removeprefix("User").removeprefix("Group").lower()
    return Entry(
        actor, row.actor_id, target, row.target_id, row.role_id, row.inherited, _link(base, row)
    )


@router.read("/v3/role_assignments")
async def list_role_assignments(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    query = request.query_params
    domain_filter = query.get("scope.domain.id")
    ctx.enforce(
        "identity:list_role_assignments", {"target": filter_target(domain_id=domain_filter)}
    )
    if "scope.project.id" in query and domain_filter:
        raise BadRequest("Specify only one of scope.project.id and scope.domain.id.")
    if "user.id" in query and "group.id" in query and "effective" in query:
        raise BadRequest("Specify only one of user.id and group.id with effective.")
    effective = "effective" in query and truthy(query["effective"] or "true")
    async with identity.db.read() as session:
        rows = list(await session.scalars(select(models.Assignment)))
        entries = [_entry(base, r) for r in rows]
        graph = await RoleGraph.load(session)
        if effective:
            entries = await _expand(session, base, entries, graph)
        entries = await _filter(session, request, entries)
        names = truthy(query["include_names"] or "true") if "include_names" in query else False
        page = page_of(request, identity)
        kept, next_url = in_memory_page(request, entries, page, lambda e: e.link)
        items = [await _render(session, graph, e, names) for e in kept]
    return json_response(views.collection("role_assignments", items, self_url(request), next_url))


async def _expand(
    session: AsyncSession, base: str, entries: list[Entry], graph: RoleGraph
) -> list[Entry]:
    expanded: list[Entry] = []
    for entry in entries:
        users: list[tuple[str, str | None]] = [(entry.actor_id, None)]
        if entry.actor_kind == "group":
            members = await session.scalars(
                select(models.Membership.user_id).where(
                    models.Membership.group_id == entry.actor_id
                )
            )
            users = [(m, f"{base}/v3/groups/{entry.actor_id}/users/{m}") for m in members]
        targets = [(entry.target_kind, entry.target_id)]
        if entry.inherited:
            targets = [("project", p) for p in await _inherited_projects(session, entry)]
        for user_id, membership in users:
            for kind, target_id in targets:
                expanded.append(
                    replace(
                        entry,
                        actor_kind="user",
                        actor_id=user_id,
                        target_kind=kind,
                        target_id=target_id,
                        membership=membership,
                    )
                )
    with_implied: list[Entry] = []
    for entry in expanded:
        for role_id in sorted(graph.expand([entry.role_id])):
            role = graph.roles[role_id]
            if role.domain_id != GLOBAL_ROLE:
                continue
            prior = (
                f"{base}/v3/roles/{entry.role_id}/implies/{role_id}"
                if role_id != entry.role_id
                else None
            )
            with_implied.append(replace(entry, role_id=role_id, prior_role=prior))
    return list(dict.fromkeys(with_implied))


async def _inherited_projects(session: AsyncSession, entry: Entry) -> list[str]:
    if entry.target_kind == "domain":
        rows = await session.scalars(
            select(models.Project.id).where(
                models.Project.domain_id == entry.target_id, models.Project.is_domain.is_(False)
            )
        )
        return sorted(rows)
    return sorted(await assignments.descendants(session, {entry.target_id}))


async def _filter(session: AsyncSession, request: Request, entries: list[Entry]) -> list[Entry]:
    query = request.query_params
    checks: list[tuple[str, Any]] = []
    if "user.id" in query:
        checks.append(("actor", ("user", query["user.id"])))
    if "group.id" in query:
        checks.append(("actor", ("group", query["group.id"])))
    if "role.id" in query:
        checks.append(("role", query["role.id"]))
    if "scope.project.id" in query:
        projects = {query["scope.project.id"]}
        if "include_subtree" in query and truthy(query["include_subtree"] or "true"):
            projects |= await assignments.descendants(session, set(projects))
        checks.append(("targets", ("project", projects)))
    if "scope.domain.id" in query:
        checks.append(("targets", ("domain", {query["scope.domain.id"]})))
    if "scope.system" in query:
        checks.append(("targets", ("system", {assignments.SYSTEM_TARGET})))
    if "scope.OS-INHERIT:inherited_to" in query:
        checks.append(("inherited", True))
    return [e for e in entries if all(_passes(e, kind, value) for kind, value in checks)]


def _passes(entry: Entry, kind: str, value: Any) -> bool:
    if kind == "actor":
        return bool((entry.actor_kind, entry.actor_id) == value)
    if kind == "role":
        return bool(entry.role_id == value)
    if kind == "targets":
        target_kind, ids = value
        return entry.target_kind == target_kind and entry.target_id in ids
    return bool(entry.inherited)


async def _render(
    session: AsyncSession, graph: RoleGraph, entry: Entry, names: bool
) -> dict[str, Any]:
    links: dict[str, str] = {"assignment": entry.link}
    if entry.membership:
        links["membership"] = entry.membership
    if entry.prior_role:
        links["prior_role"] = entry.prior_role
    scope: dict[str, Any]
    if entry.target_kind == "system":
        scope = {"system": {"all": True}}
    else:
        scope = {entry.target_kind: await _named_target(session, entry, names)}
    if entry.inherited:
        scope["OS-INHERIT:inherited_to"] = "projects"
    role = graph.roles.get(entry.role_id)
    role_body: dict[str, Any] = {"id": entry.role_id}
    if names and role is not None:
        role_body["name"] = role.name
        if role.domain_id != GLOBAL_ROLE:
            role_body["domain"] = await _domain_ref(session, role.domain_id)
    return {
        "links": links,
        "scope": scope,
        entry.actor_kind: await _named_actor(session, entry, names),
        "role": role_body,
    }


async def _named_target(session: AsyncSession, entry: Entry, names: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"id": entry.target_id}
    if not names:
        return body
    row = await session.get(models.Project, entry.target_id)
    if row is not None:
        body["name"] = row.name
        if row.domain_id != ROOT_DOMAIN:
            body["domain"] = await _domain_ref(session, row.domain_id)
    return body


async def _named_actor(session: AsyncSession, entry: Entry, names: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"id": entry.actor_id}
    if not names:
        return body
    row: models.User | models.Group | None
    if entry.actor_kind == "user":
        row = await session.get(models.User, entry.actor_id)
    else:
        row = await session.get(models.Group, entry.actor_id)
    if row is not None:
        body["name"] = row.name
        body["domain"] = await _domain_ref(session, row.domain_id)
    return body


async def _domain_ref(session: AsyncSession, domain_id: str) -> dict[str, Any]:
    domain = await session.get(models.Project, domain_id)
    return {"id": domain_id, "name": domain.name if domain else None}
