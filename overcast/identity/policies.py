"""The identity API's default policy: Keystone's secure-RBAC defaults, as data.

Every handler enforces one of these by name; ``[identity] policy`` in the
configuration overrides any rule with another check string.
"""

from __future__ import annotations

from overcast.common.policy import Rule

ADMIN = "rule:admin_required"
SYSTEM_READER = "(role:reader and system_scope:all)"
ADMIN_OR_READER = f"{ADMIN} or {SYSTEM_READER}"
SYS_PROJ = ("system", "project")
ALL_SCOPES = ("system", "domain", "project")


def _admin_rules(noun: str, plural: str, *, reader: str = ADMIN_OR_READER) -> list[Rule]:
    """The five CRUD rules of a resource only admins change and readers may see."""
    return [
        Rule(f"identity:get_{noun}", reader, SYS_PROJ),
        Rule(f"identity:list_{plural}", reader, SYS_PROJ),
        Rule(f"identity:create_{noun}", ADMIN, SYS_PROJ),
        Rule(f"identity:update_{noun}", ADMIN, SYS_PROJ),
        Rule(f"identity:delete_{noun}", ADMIN, SYS_PROJ),
    ]


BASE = [
    Rule("admin_required", "role:admin or is_admin:1"),
    Rule("service_role", "role:service"),
    Rule("service_or_admin", "rule:admin_required or rule:service_role"),
    Rule("owner", "user_id:%(user_id)s"),
    Rule("admin_or_owner", "rule:admin_required or rule:owner"),
    Rule("token_subject", "user_id:%(target.token.user_id)s"),
    Rule("admin_or_token_subject", "rule:admin_required or rule:token_subject"),
    Rule("service_admin_or_token_subject", "rule:service_or_admin or rule:token_subject"),
]

TOKENS = [
    Rule(
        "identity:validate_token",
        f"{ADMIN_OR_READER} or rule:service_role or rule:token_subject",
    ),
    Rule("identity:check_token", f"{ADMIN_OR_READER} or rule:token_subject"),
    Rule("identity:revoke_token", f"{ADMIN} or rule:token_subject"),
    Rule("identity:get_auth_catalog", ""),
    Rule("identity:get_auth_projects", ""),
    Rule("identity:get_auth_domains", ""),
    Rule("identity:get_auth_system", ""),
]

DOMAINS = [
    Rule(
        "identity:get_domain",
        f"{ADMIN_OR_READER} or token.domain.id:%(target.domain.id)s"
        " or token.project.domain.id:%(target.domain.id)s",
        ALL_SCOPES,
    ),
    Rule(
        "identity:list_domains",
        f"{ADMIN_OR_READER} or (role:reader and domain_id:%(target.domain.id)s)",
        ALL_SCOPES,
    ),
    Rule("identity:create_domain", ADMIN, SYS_PROJ),
    Rule("identity:update_domain", ADMIN, SYS_PROJ),
    Rule("identity:delete_domain", ADMIN, SYS_PROJ),
]

_DOMAIN_READER_OF_PROJECT = (
    "(role:reader and domain_id:%(target.project.domain_id)s"
    " and not None:%(target.project.domain_id)s)"
)
_DOMAIN_MANAGER_OF_PROJECT = (
    "(role:manager and domain_id:%(target.project.domain_id)s"
    " and not None:%(target.project.domain_id)s)"
)
_PROJECT_READ = (
    f"{ADMIN_OR_READER} or {_DOMAIN_READER_OF_PROJECT} or project_id:%(target.project.id)s"
)
_PROJECT_WRITE = f"{ADMIN} or {_DOMAIN_MANAGER_OF_PROJECT}"

PROJECTS = [
    Rule("identity:get_project", _PROJECT_READ, ALL_SCOPES),
    Rule(
        "identity:list_projects",
        f"{ADMIN_OR_READER} or (role:reader and domain_id:%(target.domain_id)s)",
        ALL_SCOPES,
    ),
    Rule(
        "identity:list_user_projects",
        f"{ADMIN_OR_READER} or (role:reader and domain_id:%(target.user.domain_id)s)"
        " or user_id:%(target.user.id)s",
        ALL_SCOPES,
    ),
    Rule("identity:create_project", _PROJECT_WRITE, ALL_SCOPES),
    Rule("identity:update_project", _PROJECT_WRITE, ALL_SCOPES),
    Rule("identity:delete_project", _PROJECT_WRITE, ALL_SCOPES),
    Rule("identity:list_project_tags", _PROJECT_READ, ALL_SCOPES),
    Rule("identity:get_project_tag", _PROJECT_READ, ALL_SCOPES),
    Rule("identity:update_project_tags", _PROJECT_WRITE, ALL_SCOPES),
    Rule("identity:create_project_tag", _PROJECT_WRITE, ALL_SCOPES),
    Rule("identity:delete_project_tags", _PROJECT_WRITE, ALL_SCOPES),
    Rule("identity:delete_project_tag", _PROJECT_WRITE, ALL_SCOPES),
]

_USER_WRITE = f"{ADMIN} or (role:manager and token.domain.id:%(target.user.domain_id)s)"

USERS = [
    Rule(
        "identity:get_user",
        f"{ADMIN_OR_READER} or (role:reader and token.domain.id:%(target.user.domain_id)s)"
        " or user_id:%(target.user.id)s",
        ALL_SCOPES,
    ),
    Rule(
        "identity:list_users",
        f"{ADMIN_OR_READER} or (role:reader and domain_id:%(target.domain_id)s)",
        ALL_SCOPES,
    ),
    Rule("identity:create_user", _USER_WRITE, ALL_SCOPES),
    Rule("identity:update_user", _USER_WRITE, ALL_SCOPES),
    Rule("identity:delete_user", _USER_WRITE, ALL_SCOPES),
    Rule("identity:list_projects_for_user", ""),
    Rule("identity:list_domains_for_user", ""),
]

_GROUP_READ = f"{ADMIN_OR_READER} or (role:reader and domain_id:%(target.group.domain_id)s)"
_GROUP_WRITE = f"{ADMIN} or (role:manager and domain_id:%(target.group.domain_id)s)"
_MEMBER_WRITE = (
    f"{ADMIN} or (role:manager and domain_id:%(target.group.domain_id)s"
    " and domain_id:%(target.user.domain_id)s)"
)

GROUPS = [
    Rule("identity:get_group", _GROUP_READ, ALL_SCOPES),
    Rule("identity:list_groups", _GROUP_READ, ALL_SCOPES),
    Rule(
        "identity:list_groups_for_user",
        f"{ADMIN_OR_READER} or (role:reader and domain_id:%(target.user.domain_id)s)"
        " or user_id:%(user_id)s",
        ALL_SCOPES,
    ),
    Rule("identity:create_group", _GROUP_WRITE, ALL_SCOPES),
    Rule("identity:update_group", _GROUP_WRITE, ALL_SCOPES),
    Rule("identity:delete_group", _GROUP_WRITE, ALL_SCOPES),
    Rule("identity:list_users_in_group", _GROUP_READ, ALL_SCOPES),
    Rule(
        "identity:check_user_in_group",
        f"{ADMIN_OR_READER} or (role:reader and domain_id:%(target.group.domain_id)s"
        " and domain_id:%(target.user.domain_id)s)",
        ALL_SCOPES,
    ),
    Rule("identity:add_user_to_group", _MEMBER_WRITE, ALL_SCOPES),
    Rule("identity:remove_user_from_group", _MEMBER_WRITE, ALL_SCOPES),
]

_GRANT_READ = (
    f"{ADMIN_OR_READER}"
    " or (role:reader and domain_id:%(target.user.domain_id)s"
    " and domain_id:%(target.project.domain_id)s)"
    " or (role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s)"
    " or (role:reader and domain_id:%(target.group.domain_id)s"
    " and domain_id:%(target.project.domain_id)s)"
    " or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)"
)
_GRANT_WRITE = (
    f"{ADMIN}"
    " or ((role:admin and domain_id:%(target.user.domain_id)s"
    " and domain_id:%(target.project.domain_id)s)"
    " or (role:admin and domain_id:%(target.group.domain_id)s"
    " and domain_id:%(target.project.domain_id)s))"
    " and (domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s)"
)

ROLES = [
    Rule("identity:get_role", ADMIN_OR_READER, ALL_SCOPES),
    Rule("identity:list_roles", ADMIN_OR_READER, ALL_SCOPES),
    Rule("identity:create_role", ADMIN, SYS_PROJ),
    Rule("identity:update_role", ADMIN, SYS_PROJ),
    Rule("identity:delete_role", ADMIN, SYS_PROJ),
    Rule("identity:get_domain_role", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:list_domain_roles", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:create_domain_role", ADMIN, SYS_PROJ),
    Rule("identity:update_domain_role", ADMIN, SYS_PROJ),
    Rule("identity:delete_domain_role", ADMIN, SYS_PROJ),
    Rule("identity:get_implied_role", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:list_implied_roles", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:create_implied_role", ADMIN, SYS_PROJ),
    Rule("identity:delete_implied_role", ADMIN, SYS_PROJ),
    Rule("identity:list_role_inference_rules", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:check_implied_role", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:check_grant", _GRANT_READ, ALL_SCOPES),
    Rule("identity:list_grants", _GRANT_READ, ALL_SCOPES),
    Rule("identity:create_grant", _GRANT_WRITE, ALL_SCOPES),
    Rule("identity:revoke_grant", _GRANT_WRITE, ALL_SCOPES),
    Rule("identity:list_system_grants_for_user", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:check_system_grant_for_user", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:create_system_grant_for_user", ADMIN, SYS_PROJ),
    Rule("identity:revoke_system_grant_for_user", ADMIN, SYS_PROJ),
    Rule("identity:list_system_grants_for_group", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:check_system_grant_for_group", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:create_system_grant_for_group", ADMIN, SYS_PROJ),
    Rule("identity:revoke_system_grant_for_group", ADMIN, SYS_PROJ),
    Rule(
        "identity:list_role_assignments",
        f"{ADMIN_OR_READER} or (role:reader and domain_id:%(target.domain_id)s"
        " and not None:%(target.domain_id)s)",
        ALL_SCOPES,
    ),
    Rule(
        "identity:list_role_assignments_for_tree",
        f"{ADMIN_OR_READER} or (role:reader and domain_id:%(target.domain_id)s"
        " and not None:%(target.domain_id)s)",
        ALL_SCOPES,
    ),
]

CATALOG = [
    Rule("identity:get_region", ""),
    Rule("identity:list_regions", ""),
    Rule("identity:create_region", ADMIN, SYS_PROJ),
    Rule("identity:update_region", ADMIN, SYS_PROJ),
    Rule("identity:delete_region", ADMIN, SYS_PROJ),
    *_admin_rules("service", "services"),
    *_admin_rules("endpoint", "endpoints"),
    *_admin_rules("endpoint_group", "endpoint_groups"),
    Rule("identity:list_projects_associated_with_endpoint_group", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:list_endpoints_associated_with_endpoint_group", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:get_endpoint_group_in_project", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:list_endpoint_groups_for_project", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:add_endpoint_group_to_project", ADMIN, SYS_PROJ),
    Rule("identity:remove_endpoint_group_from_project", ADMIN, SYS_PROJ),
    Rule("identity:list_projects_for_endpoint", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:add_endpoint_to_project", ADMIN, SYS_PROJ),
    Rule("identity:check_endpoint_in_project", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:list_endpoints_for_project", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:remove_endpoint_from_project", ADMIN, SYS_PROJ),
]

_CRED_OWNER = "user_id:%(target.credential.user_id)s"

CREDENTIALS = [
    Rule("identity:get_credential", f"{ADMIN_OR_READER} or {_CRED_OWNER}", ALL_SCOPES),
    Rule("identity:list_credentials", f"{ADMIN_OR_READER} or {_CRED_OWNER}", ALL_SCOPES),
    Rule("identity:create_credential", f"{ADMIN} or {_CRED_OWNER}", ALL_SCOPES),
    Rule("identity:update_credential", f"{ADMIN} or {_CRED_OWNER}", ALL_SCOPES),
    Rule("identity:delete_credential", f"{ADMIN} or {_CRED_OWNER}", ALL_SCOPES),
    Rule("identity:ec2_get_credential", f"{ADMIN_OR_READER} or {_CRED_OWNER}", SYS_PROJ),
    Rule("identity:ec2_list_credentials", f"{ADMIN_OR_READER} or rule:owner", SYS_PROJ),
    Rule("identity:ec2_create_credential", f"{ADMIN} or (role:member and {_CRED_OWNER})", SYS_PROJ),
    Rule("identity:ec2_delete_credential", f"{ADMIN} or (role:member and {_CRED_OWNER})", SYS_PROJ),
]

APPLICATION_CREDENTIALS = [
    Rule("identity:get_application_credential", f"{ADMIN_OR_READER} or rule:owner", SYS_PROJ),
    Rule("identity:list_application_credentials", f"{ADMIN_OR_READER} or rule:owner", SYS_PROJ),
    Rule("identity:create_application_credential", "user_id:%(user_id)s", ("project",)),
    Rule("identity:delete_application_credential", "rule:admin_or_owner", SYS_PROJ),
    Rule("identity:get_access_rule", f"{SYSTEM_READER} or user_id:%(target.user.id)s", SYS_PROJ),
    Rule("identity:list_access_rules", f"{SYSTEM_READER} or user_id:%(target.user.id)s", SYS_PROJ),
    Rule(
        "identity:delete_access_rule",
        "(role:admin and system_scope:all) or user_id:%(target.user.id)s",
        SYS_PROJ,
    ),
]

_TRUSTOR = "user_id:%(target.trust.trustor_user_id)s"
_TRUSTEE = "user_id:%(target.trust.trustee_user_id)s"

TRUSTS = [
    Rule("identity:create_trust", _TRUSTOR, ("project",)),
    Rule("identity:list_trusts", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:list_trusts_for_trustor", f"{ADMIN_OR_READER} or {_TRUSTOR}", SYS_PROJ),
    Rule("identity:list_trusts_for_trustee", f"{ADMIN_OR_READER} or {_TRUSTEE}", SYS_PROJ),
    Rule(
        "identity:list_roles_for_trust", f"{ADMIN_OR_READER} or {_TRUSTOR} or {_TRUSTEE}", SYS_PROJ
    ),
    Rule("identity:get_role_for_trust", f"{ADMIN_OR_READER} or {_TRUSTOR} or {_TRUSTEE}", SYS_PROJ),
    Rule("identity:delete_trust", f"{ADMIN} or {_TRUSTOR}", SYS_PROJ),
    Rule("identity:get_trust", f"{ADMIN_OR_READER} or {_TRUSTOR} or {_TRUSTEE}", SYS_PROJ),
]

MISC = [
    *_admin_rules("policy", "policies"),
    *_admin_rules("consumer", "consumers"),
    Rule("identity:create_domain_config", ADMIN, SYS_PROJ),
    Rule("identity:get_domain_config", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:update_domain_config", ADMIN, SYS_PROJ),
    Rule("identity:delete_domain_config", ADMIN, SYS_PROJ),
    Rule("identity:get_domain_config_default", ADMIN_OR_READER, SYS_PROJ),
    Rule("identity:list_revoke_events", "rule:service_or_admin"),
]

RULES = [
    *BASE,
    *TOKENS,
    *DOMAINS,
    *PROJECTS,
    *USERS,
    *GROUPS,
    *ROLES,
    *CATALOG,
    *CREDENTIALS,
    *APPLICATION_CREDENTIALS,
    *TRUSTS,
    *MISC,
]
