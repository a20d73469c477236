"""``/v3/domains/{id}/config``: per-domain overrides of the identity and LDAP options."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, Forbidden, NotFound
from overcast.identity import lookups, models
from overcast.identity.handlers.common import Identity
from overcast.identity.schemas import DomainConfigOptionRequest, DomainConfigRequest

router = Router()

DEFAULTS: dict[str, dict[str, Any]] = {
    "identity": {"driver": "sql", "list_limit": None},
    "ldap": {
        "url": "ldap://localhost",
        "user": None,
        "suffix": "cn=example,cn=com",
        "query_scope": "one",
        "page_size": 0,
        "alias_dereferencing": "default",
        "chase_referrals": None,
        "user_tree_dn": None,
        "user_filter": None,
        "user_objectclass": "inetOrgPerson",
        "user_id_attribute": "cn",
        "user_name_attribute": "sn",
        "user_mail_attribute": "mail",
        "user_description_attribute": "description",
        "user_pass_attribute": "userPassword",
        "user_enabled_attribute": "enabled",
        "user_enabled_invert": False,
        "user_enabled_mask": 0,
        "user_enabled_default": "True",
        "group_tree_dn": None,
        "group_filter": None,
        "group_objectclass": "groupOfNames",
        "group_id_attribute": "cn",
        "group_name_attribute": "ou",
        "group_member_attribute": "member",
        "group_desc_attribute": "description",
        "use_tls": False,
        "tls_req_cert": "demand",
    },
}
SENSITIVE = {"ldap": {"password"}}


def _allowed(group: str, option: str | None = None) -> None:
    if group not in DEFAULTS:
        raise Forbidden(f"Group {group} is not supported for domain specific configurations.")
    if (
        option is not None
        and option not in DEFAULTS[group]
        and option not in SENSITIVE.get(group, ())
    ):
        raise Forbidden(
            f"Option {option} in group {group} is not supported for domain specific configurations."
        )


def _check(config: dict[str, dict[str, Any]]) -> None:
    if not config:
        raise BadRequest("A domain configuration needs at least one group.")
    for group, options in config.items():
        _allowed(group)
        if not options:
            raise BadRequest(f"Group {group} of a domain configuration needs at least one option.")
        for option in options:
            _allowed(group, option)


async def _load(session: AsyncSession, domain_id: str) -> dict[str, dict[str, Any]]:
    rows = await session.scalars(
        select(models.DomainConfig).where(models.DomainConfig.domain_id == domain_id)
    )
    config: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.option not in SENSITIVE.get(row.group, ()):
            config.setdefault(row.group, {})[row.option] = row.value["v"]
    return config


async def _store(session: AsyncSession, domain_id: str, config: dict[str, dict[str, Any]]) -> None:
    for group, options in config.items():
        for option, value in options.items():
            row = await session.get(models.DomainConfig, (domain_id, group, option))
            if row is None:
                session.add(
                    models.DomainConfig(
                        domain_id=domain_id, group=group, option=option, value={"v": value}
                    )
                )
            else:
                row.value = {"v": value}


def _pick(
    config: dict[str, dict[str, Any]], domain_id: str, group: str | None, option: str | None
) -> dict[str, Any]:
    if group is None:
        if not config:
            raise NotFound(f"Could not find domain config for domain {domain_id}.")
        return config
    _allowed(group, option)
    if group not in config:
        raise NotFound(f"Could not find config group {group} for domain {domain_id}.")
    if option is None:
        return {group: config[group]}
    if option not in config[group]:
        raise NotFound(
            f"Could not find config option {option} in group {group} for domain {domain_id}."
        )
    return {option: config[group][option]}


# -- defaults (registered first: /v3/domains/config/... must not be read as a domain id) --


def _default(group: str | None, option: str | None) -> dict[str, Any]:
    if group is None:
        return DEFAULTS
    _allowed(group, option)
    if option is None:
        return {group: DEFAULTS[group]}
    return {option: DEFAULTS[group][option]}


@router.read("/v3/domains/config/default")
async def get_default_config(ctx: Context) -> JSONResponse:
    ctx.enforce("identity:get_domain_config_default")
    return json_response({"config": _default(None, None)})


@router.read("/v3/domains/config/{group}/default")
async def get_default_group(group: str, ctx: Context) -> JSONResponse:
    ctx.enforce("identity:get_domain_config_default")
    return json_response({"config": _default(group, None)})


@router.read("/v3/domains/config/{group}/{option}/default")
async def get_default_option(group: str, option: str, ctx: Context) -> JSONResponse:
    ctx.enforce("identity:get_domain_config_default")
    return json_response({"config": _default(group, option)})


# -- a domain's configuration --------------------------------------------------------------


@router.put("/v3/domains/{domain_id}/config", status=201)
async def create_domain_config(
    domain_id: str, body: DomainConfigRequest, ctx: Context, identity: Identity
) -> JSONResponse:
    ctx.enforce("identity:create_domain_config")
    _check(body.config)
    async with identity.writing() as session:
        await lookups.domain(session, domain_id)
        existed = bool(await _load(session, domain_id))
        await session.execute(
            delete(models.DomainConfig).where(models.DomainConfig.domain_id == domain_id)
        )
        await session.flush()
        await _store(session, domain_id, body.config)
        await session.flush()
        config = await _load(session, domain_id)
    return json_response({"config": config}, status=200 if existed else 201)


async def _show(
    identity: Identity, ctx: Context, domain_id: str, group: str | None, option: str | None
) -> JSONResponse:
    ctx.enforce("identity:get_domain_config")
    async with identity.db.read() as session:
        await lookups.domain(session, domain_id)
        config = await _load(session, domain_id)
    return json_response({"config": _pick(config, domain_id, group, option)})


@router.read("/v3/domains/{domain_id}/config")
async def get_domain_config(domain_id: str, ctx: Context, identity: Identity) -> JSONResponse:
    return await _show(identity, ctx, domain_id, None, None)


@router.read("/v3/domains/{domain_id}/config/{group}")
async def get_domain_config_group(
    domain_id: str, group: str, ctx: Context, identity: Identity
) -> JSONResponse:
    return await _show(identity, ctx, domain_id, group, None)


@router.read("/v3/domains/{domain_id}/config/{group}/{option}")
async def get_domain_config_option(
    domain_id: str, group: str, option: str, ctx: Context, identity: Identity
) -> JSONResponse:
    return await _show(identity, ctx, domain_id, group, option)


async def _update(
    identity: Identity,
    ctx: Context,
    domain_id: str,
    changes: dict[str, dict[str, Any]],
    group: str | None,
) -> JSONResponse:
    ctx.enforce("identity:update_domain_config")
    if group is not None and set(changes) - {group}:
        raise BadRequest(f"Only group {group} may be changed at this URL.")
    _check(changes)
    async with identity.writing() as session:
        await lookups.domain(session, domain_id)
        current = await _load(session, domain_id)
        if not current:
            raise NotFound(f"Could not find domain config for domain {domain_id}.")
        for name in changes:
            if group is not None and name not in current:
                raise NotFound(f"Could not find config group {name} for domain {domain_id}.")
        await _store(session, domain_id, changes)
        await session.flush()
        config = await _load(session, domain_id)
    return json_response({"config": config})


@router.patch("/v3/domains/{domain_id}/config")
async def update_domain_config(
    domain_id: str, body: DomainConfigRequest, ctx: Context, identity: Identity
) -> JSONResponse:
    return await _update(identity, ctx, domain_id, body.config, None)


@router.patch("/v3/domains/{domain_id}/config/{group}")
async def update_domain_config_group(
    domain_id: str, group: str, body: DomainConfigRequest, ctx: Context, identity: Identity
) -> JSONResponse:
    return await _update(identity, ctx, domain_id, body.config, group)


@router.patch("/v3/domains/{domain_id}/config/{group}/{option}")
async def update_domain_config_option(
    domain_id: str,
    group: str,
    option: str,
    body: DomainConfigOptionRequest,
    ctx: Context,
    identity: Identity,
) -> JSONResponse:
    if set(body.config) != {option}:
        raise BadRequest(f"Only option {option} may be changed at this URL.")
    return await _update(identity, ctx, domain_id, {group: body.config}, group)


async def _delete(
    identity: Identity, ctx: Context, domain_id: str, group: str | None, option: str | None
) -> Response:
    ctx.enforce("identity:delete_domain_config")
    async with identity.writing() as session:
        await lookups.domain(session, domain_id)
        _pick(await _load(session, domain_id), domain_id, group, option)
        clauses = [models.DomainConfig.domain_id == domain_id]
        if group is not None:
            clauses.append(models.DomainConfig.group == group)
        if option is not None:
            clauses.append(models.DomainConfig.option == option)
        await session.execute(delete(models.DomainConfig).where(*clauses))
    return empty_response()


@router.delete("/v3/domains/{domain_id}/config", status=204)
async def delete_domain_config(domain_id: str, ctx: Context, identity: Identity) -> Response:
    return await _delete(identity, ctx, domain_id, None, None)


@router.delete("/v3/domains/{domain_id}/config/{group}", status=204)
async def delete_domain_config_group(
    domain_id: str, group: str, ctx: Context, identity: Identity
) -> Response:
    return await _delete(identity, ctx, domain_id, group, None)


@router.delete("/v3/domains/{domain_id}/config/{group}/{option}", status=204)
async def delete_domain_config_option(
    domain_id: str, group: str, option: str, ctx: Context, identity: Identity
) -> Response:
    return await _delete(identity, ctx, domain_id, group, option)
