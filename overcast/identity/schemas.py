"""Request bodies of the identity API, validated as Keystone validates them.

Resources that Keystone lets carry extra attributes (projects, users, roles ...)
allow unknown fields; they are stored and returned as given.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator

from overcast.common.clock import parse_isotime

Name64 = Annotated[StrictStr, Field(min_length=1, max_length=64)]
Name255 = Annotated[StrictStr, Field(min_length=1, max_length=255)]
Id64 = Annotated[StrictStr, Field(min_length=1, max_length=64)]
Description = StrictStr | None
Tag = Annotated[StrictStr, Field(min_length=1, max_length=255, pattern=r"^[^,/]*$")]
Tags = Annotated[list[Tag], Field(max_length=80)]
Interface = Literal["public", "internal", "admin"]
RESERVED = frozenset({"id", "links"})


class _Open(BaseModel):
    """A resource that may carry extra attributes."""

    model_config = ConfigDict(extra="allow")

    def extras(self) -> dict[str, Any]:
        """The attributes given beyond the schema (``id`` and ``links`` are never kept)."""
        return {k: v for k, v in (self.model_extra or {}).items() if k not in RESERVED}


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _time(value: Any) -> Any:
    if value is None or isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 time")
    return parse_isotime(value)


# -- domains and projects ---------------------------------------------------


class DomainCreate(_Open):
    name: Name64
    description: Description = None
    enabled: StrictBool = True
    tags: Tags = []
    options: dict[str, Any] = {}
    explicit_domain_id: Id64 | None = None


class DomainUpdate(_Open):
    name: Name64 | None = None
    description: Description = None
    enabled: StrictBool | None = None
    tags: Tags | None = None
    options: dict[str, Any] | None = None


class ProjectCreate(_Open):
    name: Name64
    description: Description = None
    enabled: StrictBool = True
    domain_id: Id64 | None = None
    parent_id: Id64 | None = None
    is_domain: StrictBool = False
    tags: Tags = []
    options: dict[str, Any] = {}


class ProjectUpdate(_Open):
    name: Name64 | None = None
    description: Description = None
    enabled: StrictBool | None = None
    tags: Tags | None = None
    options: dict[str, Any] | None = None


class DomainCreateRequest(BaseModel):
    domain: DomainCreate


class DomainUpdateRequest(BaseModel):
    domain: DomainUpdate


class ProjectCreateRequest(BaseModel):
    project: ProjectCreate


class ProjectUpdateRequest(BaseModel):
    project: ProjectUpdate


class TagsRequest(BaseModel):
    tags: Tags


# -- users and groups -------------------------------------------------------


class UserCreate(_Open):
    name: Name255
    domain_id: Id64 | None = None
    default_project_id: Id64 | None = None
    description: Description = None
    enabled: StrictBool = True
    password: StrictStr | None = None
    options: dict[str, Any] = {}


class UserUpdate(_Open):
    name: Name255 | None = None
    default_project_id: Id64 | None = None
    description: Description = None
    enabled: StrictBool | None = None
    password: StrictStr | None = None
    options: dict[str, Any] | None = None


class UserCreateRequest(BaseModel):
    user: UserCreate


class UserUpdateRequest(BaseModel):
    user: UserUpdate


class PasswordChange(_Closed):
    password: StrictStr
    original_password: StrictStr


class PasswordChangeRequest(BaseModel):
    user: PasswordChange


class GroupCreate(_Open):
    name: Name64
    domain_id: Id64 | None = None
    description: Description = None


class GroupUpdate(_Open):
    name: Name64 | None = None
    description: Description = None


class GroupCreateRequest(BaseModel):
    group: GroupCreate


class GroupUpdateRequest(BaseModel):
    group: GroupUpdate


# -- roles ------------------------------------------------------------------


class RoleCreate(_Open):
    name: Name255
    domain_id: Id64 | None = None
    description: Description = None
    options: dict[str, Any] = {}


class RoleUpdate(_Open):
    name: Name255 | None = None
    description: Description = None
    options: dict[str, Any] | None = None


class RoleCreateRequest(BaseModel):
    role: RoleCreate


class RoleUpdateRequest(BaseModel):
    role: RoleUpdate


# -- catalog ----------------------------------------------------------------


class RegionCreate(_Open):
    id: Annotated[StrictStr, Field(min_length=1, max_length=255)] | None = None
    description: Description = None
    parent_region_id: Annotated[StrictStr, Field(max_length=255)] | None = None


class RegionUpdate(_Open):
    description: Description = None
    parent_region_id: Annotated[StrictStr, Field(max_length=255)] | None = None


class RegionCreateRequest(BaseModel):
    region: RegionCreate


class RegionUpdateRequest(BaseModel):
    region: RegionUpdate


class ServiceCreate(_Open):
    type: Name255
    name: Annotated[StrictStr, Field(max_length=255)] | None = None
    description: Description = None
    enabled: StrictBool = True


class ServiceUpdate(_Open):
    type: Name255 | None = None
    name: Annotated[StrictStr, Field(max_length=255)] | None = None
    description: Description = None
    enabled: StrictBool | None = None


class ServiceCreateRequest(BaseModel):
    service: ServiceCreate


class ServiceUpdateRequest(BaseModel):
    service: ServiceUpdate


class EndpointCreate(_Open):
    service_id: Id64
    interface: Interface
    url: Annotated[StrictStr, Field(min_length=1, max_length=2048)]
    region_id: Annotated[StrictStr, Field(max_length=255)] | None = None
    region: Annotated[StrictStr, Field(max_length=255)] | None = None
    enabled: StrictBool = True


class EndpointUpdate(_Open):
    service_id: Id64 | None = None
    interface: Interface | None = None
    url: Annotated[StrictStr, Field(min_length=1, max_length=2048)] | None = None
    region_id: Annotated[StrictStr, Field(max_length=255)] | None = None
    region: Annotated[StrictStr, Field(max_length=255)] | None = None
    enabled: StrictBool | None = None


class EndpointCreateRequest(BaseModel):
    endpoint: EndpointCreate


class EndpointUpdateRequest(BaseModel):
    endpoint: EndpointUpdate


class EndpointFilters(_Closed):
    service_id: Id64 | None = None
    region_id: Annotated[StrictStr, Field(max_length=255)] | None = None
    interface: Interface | None = None


class EndpointGroupCreate(_Closed):
    name: Name255
    description: Description = None
    filters: EndpointFilters


class EndpointGroupUpdate(_Closed):
    name: Name255 | None = None
    description: Description = None
    filters: EndpointFilters | None = None


class EndpointGroupCreateRequest(BaseModel):
    endpoint_group: EndpointGroupCreate


class EndpointGroupUpdateRequest(BaseModel):
    endpoint_group: EndpointGroupUpdate


# -- credentials, application credentials, trusts, policies ------------------


class CredentialCreate(_Open):
    user_id: Id64
    type: Name255
    blob: StrictStr
    project_id: Id64 | None = None


class CredentialUpdate(_Open):
    user_id: Id64 | None = None
    type: Name255 | None = None
    blob: StrictStr | None = None
    project_id: Id64 | None = None


class CredentialCreateRequest(BaseModel):
    credential: CredentialCreate


class CredentialUpdateRequest(BaseModel):
    credential: CredentialUpdate


class Ec2CredentialCreate(_Open):
    tenant_id: Id64 | None = None
    project_id: Id64 | None = None


class RoleRef(_Closed):
    id: Id64 | None = None
    name: Name255 | None = None
    domain_id: Id64 | None = None


class AccessRuleIn(_Closed):
    id: Id64 | None = None
    path: Annotated[StrictStr, Field(max_length=225)] | None = None
    method: Literal["HEAD", "GET", "POST", "PUT", "PATCH", "DELETE"] | None = None
    service: Annotated[StrictStr, Field(max_length=64)] | None = None


class AppCredCreate(_Closed):
    name: Name255
    description: Description = None
    secret: Annotated[StrictStr, Field(min_length=1, max_length=4096)] | None = None
    expires_at: datetime | None = None
    roles: list[RoleRef] | None = None
    unrestricted: StrictBool | None = None
    access_rules: list[AccessRuleIn] | None = None
    system: StrictStr | None = None

    _times = field_validator("expires_at", mode="before")(_time)


class AppCredCreateRequest(BaseModel):
    application_credential: AppCredCreate


class TrustCreate(_Open):
    trustor_user_id: Id64
    trustee_user_id: Id64
    impersonation: StrictBool
    project_id: Id64 | None = None
    roles: list[RoleRef] = []
    expires_at: datetime | None = None
    remaining_uses: Annotated[StrictInt, Field(ge=1)] | None = None
    allow_redelegation: StrictBool = False
    redelegation_count: Annotated[StrictInt, Field(ge=0)] | None = None

    _times = field_validator("expires_at", mode="before")(_time)


class TrustCreateRequest(BaseModel):
    trust: TrustCreate


class PolicyCreate(_Open):
    type: Name255
    blob: StrictStr


class PolicyUpdate(_Open):
    type: Name255 | None = None
    blob: StrictStr | None = None


class PolicyCreateRequest(BaseModel):
    policy: PolicyCreate


class PolicyUpdateRequest(BaseModel):
    policy: PolicyUpdate


class ConsumerCreate(_Open):
    description: Description = None


class ConsumerCreateRequest(BaseModel):
    consumer: ConsumerCreate = ConsumerCreate()


class ConsumerUpdate(_Open):
    description: Description = None


class ConsumerUpdateRequest(BaseModel):
    consumer: ConsumerUpdate


ConfigValue = StrictStr | StrictInt | StrictBool | float | list[Any] | None


class DomainConfigRequest(BaseModel):
    config: dict[StrictStr, dict[StrictStr, ConfigValue]]


class DomainConfigOptionRequest(BaseModel):
    config: dict[StrictStr, ConfigValue]


# -- authentication ---------------------------------------------------------


class DomainRef(_Closed):
    id: Id64 | None = None
    name: Annotated[StrictStr, Field(max_length=255)] | None = None


class PasswordUser(_Closed):
    id: Id64 | None = None
    name: Annotated[StrictStr, Field(max_length=255)] | None = None
    domain: DomainRef | None = None
    password: StrictStr


class PasswordMethod(_Closed):
    user: PasswordUser


class TokenMethod(_Closed):
    id: Annotated[StrictStr, Field(min_length=1, max_length=2048)]


class AppCredUser(_Closed):
    id: Id64 | None = None
    name: Annotated[StrictStr, Field(max_length=255)] | None = None
    domain: DomainRef | None = None


class AppCredMethod(_Closed):
    id: Id64 | None = None
    name: Annotated[StrictStr, Field(max_length=255)] | None = None
    user: AppCredUser | None = None
    secret: StrictStr


class Identity(BaseModel):
    model_config = ConfigDict(extra="allow")

    methods: Annotated[list[StrictStr], Field(min_length=1)]
    password: PasswordMethod | None = None
    token: TokenMethod | None = None
    application_credential: AppCredMethod | None = None


class ProjectScope(_Closed):
    id: Id64 | None = None
    name: Annotated[StrictStr, Field(max_length=64)] | None = None
    domain: DomainRef | None = None


class TrustScope(_Closed):
    id: Id64


class Scope(_Closed):
    project: ProjectScope | None = None
    domain: DomainRef | None = None
    system: dict[StrictStr, StrictBool] | None = None
    OS_TRUST_trust: TrustScope | None = Field(default=None, alias="OS-TRUST:trust")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class AuthBody(BaseModel):
    identity: Identity
    scope: Scope | Literal["unscoped"] | None = None


class AuthRequest(BaseModel):
    auth: AuthBody
