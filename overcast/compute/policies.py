"""The compute API's default policy: Nova's secure-RBAC defaults, as data.

Server rules are checked against ``{"project_id": <the server's project>,
"user_id": <its user>}``; keypair rules against the keypair's user. Any rule
can be overridden in ``[compute] policy``.
"""

from __future__ import annotations

from overcast.common.policy import Rule

PROJECT = ("project",)
ADMIN = "rule:context_is_admin"
MEMBER_OR_ADMIN = "rule:project_member_or_admin"
READER_OR_ADMIN = "rule:project_reader_or_admin"
ANYONE = "@"

BASE = [
    Rule("context_is_admin", "role:admin"),
    Rule("admin_api", "role:admin"),
    Rule("project_member_api", "role:member and project_id:%(project_id)s"),
    Rule("project_reader_api", "role:reader and project_id:%(project_id)s"),
    Rule("project_member_or_admin", "rule:project_member_api or rule:context_is_admin"),
    Rule("project_reader_or_admin", "rule:project_reader_api or rule:context_is_admin"),
]


def _rules(prefix: str, check: str, *names: str) -> list[Rule]:
    return [Rule(f"os_compute_api:{prefix}{name}", check, PROJECT) for name in names]


SERVERS = [
    *_rules("servers:", READER_OR_ADMIN, "index", "detail", "show"),
    *_rules(
        "servers:",
        MEMBER_OR_ADMIN,
        "create",
        "create:forced_host",
        "create:attach_volume",
        "create:attach_network",
        "create:trusted_certs",
        "update",
        "delete",
        "start",
        "stop",
        "reboot",
        "rebuild",
        "resize",
        "confirm_resize",
        "revert_resize",
        "create_image",
        "create_image:allow_volume_backed",
        "trigger_crash_dump",
    ),
    *_rules("servers:", ADMIN, "index:get_all_tenants", "detail:get_all_tenants"),
    *_rules(
        "servers:", ADMIN, "allow_all_filters", "show:host_status", "create:requested_destination"
    ),
    *_rules("servers:", ADMIN, "show:host_status:unknown-only", "create:zero_disk_flavor"),
    *_rules("os-pause-server:", MEMBER_OR_ADMIN, "pause", "unpause"),
    *_rules("os-suspend-server:", MEMBER_OR_ADMIN, "suspend", "resume"),
    *_rules("os-lock-server:", MEMBER_OR_ADMIN, "lock", "unlock"),
    *_rules("os-lock-server:", ADMIN, "unlock:unlock_override"),
    *_rules("os-shelve:", MEMBER_OR_ADMIN, "shelve", "unshelve"),
    *_rules("os-create-backup", MEMBER_OR_ADMIN, ""),
    *_rules("os-shelve:", ADMIN, "shelve_offload", "unshelve_to_host"),
    *_rules("os-rescue", MEMBER_OR_ADMIN, ""),
    *_rules("os-unrescue", MEMBER_OR_ADMIN, ""),
    *_rules("os-console-output", MEMBER_OR_ADMIN, ""),
    *_rules("server-metadata:", READER_OR_ADMIN, "index", "show"),
    *_rules("server-metadata:", MEMBER_OR_ADMIN, "create", "update", "update_all", "delete"),
    *_rules("os-server-tags:", READER_OR_ADMIN, "index", "show"),
    *_rules("os-server-tags:", MEMBER_OR_ADMIN, "update", "update_all", "delete", "delete_all"),
    *_rules("os-instance-actions:", READER_OR_ADMIN, "list", "show"),
    *_rules("os-instance-actions:", ADMIN, "events", "events:details"),
    *_rules("os-admin-actions:", ADMIN, "reset_state", "inject_network_info"),
    *_rules("os-migrate-server:", ADMIN, "migrate", "migrate:host", "migrate_live"),
    *_rules("os-create-backup", MEMBER_OR_ADMIN, ""),
    *_rules("os-server-diagnostics", ADMIN, ""),
    *_rules("os-server-password:", READER_OR_ADMIN, "show"),
    *_rules("os-server-password:", MEMBER_OR_ADMIN, "clear"),
    *_rules("os-extended-server-attributes", ADMIN, ""),
    *_rules("os-deferred-delete:", MEMBER_OR_ADMIN, "restore", "force"),
    *_rules("os-admin-password", MEMBER_OR_ADMIN, ""),
    *_rules("os-attach-interfaces:", READER_OR_ADMIN, "list", "show"),
    *_rules("os-attach-interfaces:", MEMBER_OR_ADMIN, "create", "delete"),
    *_rules("os-volumes-attachments:", READER_OR_ADMIN, "index", "show"),
    *_rules("os-volumes-attachments:", MEMBER_OR_ADMIN, "create", "update", "delete"),
    *_rules("ips:", READER_OR_ADMIN, "index", "show"),
    *_rules("os-remote-consoles", MEMBER_OR_ADMIN, ""),
    *_rules("os-server-external-events:", ADMIN, "create"),
    *_rules("os-migrations:", ADMIN, "index"),
    *_rules("servers:migrations:", ADMIN, "index", "show", "delete", "force_complete"),
]

RESOURCES = [
    *_rules("os-flavor-manage:", ADMIN, "create", "update", "delete"),
    *_rules("os-flavor-access:", ADMIN, "add_tenant_access", "remove_tenant_access"),
    *_rules("os-flavor-access", ADMIN, ""),
    *_rules("os-flavor-extra-specs:", ANYONE, "index", "show"),
    *_rules("os-flavor-extra-specs:", ADMIN, "create", "update", "delete"),
    *_rules(
        "os-keypairs:",
        "rule:context_is_admin or user_id:%(user_id)s",
        "index",
        "create",
        "show",
        "delete",
    ),
    *_rules("os-server-groups:", READER_OR_ADMIN, "index", "show"),
    *_rules("os-server-groups:", MEMBER_OR_ADMIN, "create", "delete"),
    *_rules("os-server-groups:", ADMIN, "index:all_projects"),
    *_rules("os-quota-sets:", READER_OR_ADMIN, "show", "detail"),
    *_rules("os-quota-sets:", ANYONE, "defaults"),
    *_rules("os-quota-sets:", ADMIN, "update", "delete"),
    *_rules("os-quota-class-sets:", ADMIN, "show", "update"),
    *_rules("limits", ANYONE, ""),
    *_rules("limits:", ADMIN, "other_project"),
    *_rules("os-availability-zone:", ANYONE, "list"),
    *_rules("os-availability-zone:", ADMIN, "detail"),
    *_rules(
        "os-aggregates:",
        ADMIN,
        "index",
        "create",
        "show",
        "update",
        "delete",
        "add_host",
        "remove_host",
        "set_metadata",
        "images",
    ),
    *_rules(
        "os-hypervisors:",
        ADMIN,
        "list",
        "list-detail",
        "show",
        "statistics",
        "uptime",
        "search",
        "servers",
    ),
    *_rules("os-services:", ADMIN, "list", "update", "delete"),
    *_rules("os-hosts:", ADMIN, "list", "show", "update", "reboot", "shutdown", "start"),
    *_rules("os-simple-tenant-usage:", READER_OR_ADMIN, "show"),
    *_rules("os-simple-tenant-usage:", ADMIN, "list"),
    *_rules("os-instance-usage-audit-log:", ADMIN, "list", "show"),
    *_rules("extensions", ANYONE, ""),
    *_rules("os-networks:", READER_OR_ADMIN, "list", "view"),
    *_rules("os-server-external-events:", ADMIN, "create"),
]

RULES = [*BASE, *SERVERS, *RESOURCES]
