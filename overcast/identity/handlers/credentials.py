"""``/v3/credentials`` and ``/v3/users/{id}/credentials/OS-EC2``.

Blobs are stored encrypted with the credential key repository. An ``ec2``
credential's id is the SHA-256 of its access key, as in Keystone, so that it
can be found from the access key alone.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api import Context, JSONResponse, Router, empty_response, json_response
from overcast.common.api.errors import BadRequest, NotFound
from overcast.common.auth.context import RequestContext
from overcast.common.ids import new_id
from overcast.identity import lookups, models, views
from overcast.identity.handlers.common import Base, Identity, self_url
from overcast.identity.schemas import (
    CredentialCreateRequest,
    CredentialUpdateRequest,
    Ec2CredentialCreate,
)
from overcast.identity.service import IdentityService

router = Router()


def target(user_id: str | None) -> dict[str, Any]:
    return {"target": {"credential": {"user_id": user_id}}}


def _seal(identity: IdentityService, blob: str) -> str:
    return identity.credential_keys.encrypt(blob.encode()).decode()


def _open(identity: IdentityService, row: models.Credential) -> str:
    return identity.credential_keys.decrypt(row.encrypted_blob.encode()).decode()


def _ec2_access(blob: str) -> str:
    try:
        data = json.loads(blob)
    except json.JSONDecodeError:
        raise BadRequest("The blob of an ec2 credential must be a JSON object.") from None
    if not isinstance(data, dict) or not isinstance(data.get("access"), str) or not data["access"]:
        raise BadRequest("The blob of an ec2 credential must contain an access key.")
    access: str = data["access"]
    return access


def _credential_id(kind: str, blob: str) -> str:
    if kind == "ec2":
        return hashlib.sha256(_ec2_access(blob).encode()).hexdigest()
    return new_id()


async def _fetch(
    session: AsyncSession, ctx: RequestContext, rule: str, credential_id: str
) -> models.Credential:
    row = await session.get(models.Credential, credential_id)
    ctx.enforce(rule, target(row.user_id if row else None))
    if row is None:
        raise NotFound(f"Could not find credential: {credential_id}.")
    return row


@router.post("/v3/credentials", status=201)
async def create_credential(
    body: CredentialCreateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    spec = body.credential
    ctx.enforce("identity:create_credential", target(spec.user_id))
    if spec.type == "ec2" and not spec.project_id:
        raise BadRequest("An ec2 credential needs a project_id.")
    async with identity.writing() as session:
        await lookups.user(session, spec.user_id)
        if spec.project_id:
            await lookups.project(session, spec.project_id)
        row = models.Credential(
            id=_credential_id(spec.type, spec.blob),
            user_id=spec.user_id,
            project_id=spec.project_id,
            type=spec.type,
            encrypted_blob=_seal(identity, spec.blob),
            extra=spec.extras(),
        )
        session.add(row)
        await lookups.flush_or_conflict(session, f"A credential with id {row.id} already exists.")
    return json_response({"credential": views.credential(base, row, spec.blob)}, status=201)


@router.read("/v3/credentials")
async def list_credentials(
    request: Request, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    query = request.query_params
    ctx.enforce("identity:list_credentials", target(query.get("user_id", ctx.user_id)))
    clauses = []
    for field in ("user_id", "type"):
        if field in query:
            clauses.append(getattr(models.Credential, field) == query[field])
    async with identity.db.read() as session:
        rows = await session.scalars(
            select(models.Credential).where(*clauses).order_by(models.Credential.id)
        )
        visible = [r for r in rows if ctx.can("identity:get_credential", target(r.user_id))]
    items = [views.credential(base, r, _open(identity, r)) for r in visible]
    return json_response(views.collection("credentials", items, self_url(request)))


@router.read("/v3/credentials/{credential_id}")
async def get_credential(
    credential_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    async with identity.db.read() as session:
        row = await _fetch(session, ctx, "identity:get_credential", credential_id)
    return json_response({"credential": views.credential(base, row, _open(identity, row))})


@router.patch("/v3/credentials/{credential_id}")
async def update_credential(
    credential_id: str, body: CredentialUpdateRequest, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    spec = body.credential
    changes = spec.model_dump(exclude_unset=True, exclude=set(spec.model_extra or {}))
    async with identity.writing() as session:
        row = await _fetch(session, ctx, "identity:update_credential", credential_id)
        blob = changes.get("blob") or _open(identity, row)
        if (changes.get("type") or row.type) == "ec2":
            _ec2_access(blob)
        if changes.get("user_id") is not None:
            row.user_id = changes["user_id"]
        if changes.get("type") is not None:
            row.type = changes["type"]
        if "project_id" in changes:
            row.project_id = changes["project_id"]
        row.encrypted_blob = _seal(identity, blob)
        if spec.extras():
            row.extra = {**row.extra, **spec.extras()}
    return json_response({"credential": views.credential(base, row, blob)})


@router.delete("/v3/credentials/{credential_id}", status=204)
async def delete_credential(credential_id: str, ctx: Context, identity: Identity) -> Response:
    async with identity.writing() as session:
        row = await _fetch(session, ctx, "identity:delete_credential", credential_id)
        await session.delete(row)
    return empty_response()


# -- OS-EC2 ------------------------------------------------------------------------------

EC2 = "/v3/users/{user_id}/credentials/OS-EC2"


@router.post(EC2, status=201)
async def create_ec2_credential(
    user_id: str, body: Ec2CredentialCreate, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:ec2_create_credential", {"user_id": user_id, **target(user_id)})
    project_id = body.tenant_id or body.project_id
    if not project_id:
        raise BadRequest("An ec2 credential needs a tenant_id.")
    blob = {"access": uuid.uuid4().hex, "secret": uuid.uuid4().hex, "trust_id": None}
    text = json.dumps(blob)
    async with identity.writing() as session:
        await lookups.user(session, user_id)
        await lookups.project(session, project_id)
        row = models.Credential(
            id=_credential_id("ec2", text),
            user_id=user_id,
            project_id=project_id,
            type="ec2",
            encrypted_blob=_seal(identity, text),
            extra={},
        )
        session.add(row)
    return json_response({"credential": views.ec2_credential(base, row, blob)}, status=201)


@router.read(EC2)
async def list_ec2_credentials(
    request: Request, user_id: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:ec2_list_credentials", {"user_id": user_id, **target(user_id)})
    async with identity.db.read() as session:
        await lookups.user(session, user_id)
        rows = await session.scalars(
            select(models.Credential).where(
                models.Credential.user_id == user_id, models.Credential.type == "ec2"
            )
        )
        items = [views.ec2_credential(base, r, json.loads(_open(identity, r))) for r in rows]
    return json_response(views.collection("credentials", items, self_url(request)))


async def _ec2(session: AsyncSession, user_id: str, access: str) -> models.Credential:
    row = await session.get(models.Credential, hashlib.sha256(access.encode()).hexdigest())
    if row is None or row.type != "ec2" or row.user_id != user_id:
        raise NotFound(f"Could not find credential: {access}.")
    return row


@router.read(EC2 + "/{access}")
async def get_ec2_credential(
    user_id: str, access: str, ctx: Context, identity: Identity, base: Base
) -> JSONResponse:
    ctx.enforce("identity:ec2_get_credential", {"user_id": user_id, **target(user_id)})
    async with identity.db.read() as session:
        row = await _ec2(session, user_id, access)
    blob = json.loads(_open(identity, row))
    return json_response({"credential": views.ec2_credential(base, row, blob)})


@router.delete(EC2 + "/{access}", status=204)
async def delete_ec2_credential(
    user_id: str, access: str, ctx: Context, identity: Identity
) -> Response:
    ctx.enforce("identity:ec2_delete_credential", {"user_id": user_id, **target(user_id)})
    async with identity.writing() as session:
        await session.delete(await _ec2(session, user_id, access))
    return empty_response()
