"""Server groups: where their members run, which the scheduler needs for (anti-)affinity."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.api.errors import BadRequest, Forbidden
from overcast.common.auth.context import RequestContext
from overcast.compute.models import Instance, ServerGroup, ServerGroupMember

POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


async def member_hosts(session: AsyncSession, group_uuid: str, but: str = "") -> Counter[str]:
    """How many live members of the group (but instance ``but``) run on each host."""
    rows = await session.scalars(
        select(Instance.host)
        .join(ServerGroupMember, ServerGroupMember.instance_uuid == Instance.uuid)
        .where(
            ServerGroupMember.group_uuid == group_uuid,
            Instance.deleted.is_(False),
            Instance.host.is_not(None),
            Instance.uuid != but,
        )
    )
    return Counter(h for h in rows if h)


async def scheduling_of(
    session: AsyncSession, group_uuid: str | None, but: str = ""
) -> dict[str, Any]:
    """The scheduler's view of a group now: its policy, member hosts and per-host counts.

    ``but`` leaves one member out (the one being moved).
    """
    if not group_uuid:
        return {}
    group = await session.get(ServerGroup, group_uuid)
    if group is None:
        return {}
    counts = await member_hosts(session, group_uuid, but)
    return {
        "group_policy": group.policy,
        "group_hosts": sorted(counts),
        "group_host_counts": dict(counts),
        "max_server_per_host": int(group.rules.get("max_server_per_host", 1)),
    }


async def join(
    session: AsyncSession,
    ctx: RequestContext,
    group_uuid: str,
    count: int,
    member_limit: int,
) -> ServerGroup:
    """The group new servers join (``group`` hint), if the caller's project may use it.

    :raises BadRequest: when there is no such group for this project.
    :raises Forbidden: when the new members would exceed ``server_group_members``.
    """
    group = await session.get(ServerGroup, group_uuid)
    visible = group is not None and (
        group.project_id == ctx.project_id or ctx.can("context_is_admin")
    )
    if group is None or not visible:
        raise BadRequest(f"Invalid server group {group_uuid}: it could not be found.")
    if member_limit >= 0 and len(group.members) + count > member_limit:
        raise Forbidden("Quota exceeded, too many servers in group")
    return group


def check_policy(policy: str, rules: dict[str, Any]) -> None:
    """:raises BadRequest: for rules that the policy cannot have."""
    if rules and policy != "anti-affinity":
        raise BadRequest(f"Only anti-affinity policy supports rules; {policy} has none.")
    for key in rules:
        if key != "max_server_per_host":
            raise BadRequest(f"Invalid rule {key}: only max_server_per_host exists.")
