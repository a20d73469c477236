"""The image API's default policy: Glance's secure-RBAC defaults, as data.

Image rules are checked against a target describing the image::

    {"project_id": <owner>, "owner": <owner>, "visibility": ..., "member_id": <the caller's
     project when it is a member of the image>}

``[image] policy`` in the configuration overrides any rule with another check string.
"""

from __future__ import annotations

from overcast.common.policy import Rule

PROJECT = ("project",)
ADMIN = "role:admin"
MEMBER_OF_OWNER = f"{ADMIN} or (role:member and project_id:%(project_id)s)"
READER_OF_OWNER = f"{ADMIN} or (role:reader and project_id:%(project_id)s)"
VISIBLE = (
    "project_id:%(project_id)s or project_id:%(member_id)s or 'community':%(visibility)s"
    " or 'public':%(visibility)s or 'shared':%(visibility)s"
)


def _image(name: str, check: str, *operations: str) -> Rule:
    return Rule(name, check, PROJECT, operations=operations)


IMAGES = [
    Rule("context_is_admin", ADMIN),
    Rule("default", ""),
    _image("get_images", READER_OF_OWNER, "GET /v2/images"),
    _image("get_image", f"{ADMIN} or (role:reader and ({VISIBLE}))", "GET /v2/images/{image_id}"),
    _image("add_image", MEMBER_OF_OWNER, "POST /v2/images"),
    _image("modify_image", MEMBER_OF_OWNER, "PATCH /v2/images/{image_id}"),
    _image("publicize_image", ADMIN, "PATCH /v2/images/{image_id}"),
    _image("communitize_image", MEMBER_OF_OWNER, "PATCH /v2/images/{image_id}"),
    _image("delete_image", MEMBER_OF_OWNER, "DELETE /v2/images/{image_id}"),
    _image(
        "download_image",
        f"{ADMIN} or (role:member and ({VISIBLE}))",
        "GET /v2/images/{image_id}/file",
    ),
    _image("upload_image", MEMBER_OF_OWNER, "PUT /v2/images/{image_id}/file"),
    _image("deactivate", MEMBER_OF_OWNER, "POST /v2/images/{image_id}/actions/deactivate"),
    _image("reactivate", MEMBER_OF_OWNER, "POST /v2/images/{image_id}/actions/reactivate"),
    _image("stores_info_detail", ADMIN, "GET /v2/info/stores/detail"),
    _image("get_usage", READER_OF_OWNER, "GET /v2/info/usage"),
]

MEMBERS = [
    _image("add_member", MEMBER_OF_OWNER, "POST /v2/images/{image_id}/members"),
    _image("delete_member", MEMBER_OF_OWNER, "DELETE /v2/images/{image_id}/members/{member_id}"),
    _image(
        "get_member",
        f"{ADMIN} or (role:reader and (project_id:%(project_id)s or project_id:%(member_id)s))",
        "GET /v2/images/{image_id}/members/{member_id}",
    ),
    _image(
        "get_members",
        f"{ADMIN} or (role:reader and (project_id:%(project_id)s or project_id:%(member_id)s))",
        "GET /v2/images/{image_id}/members",
    ),
    _image(
        "modify_member",
        f"{ADMIN} or (role:member and project_id:%(member_id)s)",
        "PUT /v2/images/{image_id}/members/{member_id}",
    ),
]

TASKS = [
    _image("tasks_api_access", ADMIN),
    _image("get_task", "rule:default", "GET /v2/tasks/{task_id}"),
    _image("get_tasks", "rule:default", "GET /v2/tasks"),
    _image("add_task", "rule:default", "POST /v2/tasks"),
]

METADEFS = [
    Rule("metadef_default", ""),
    Rule("metadef_admin", ADMIN),
    *(
        _image(f"get_metadef_{noun}", "rule:metadef_default")
        for noun in (
            "namespace",
            "namespaces",
            "object",
            "objects",
            "property",
            "properties",
            "tag",
            "tags",
            "resource_type",
            "resource_types",
        )
    ),
    *(
        _image(f"{verb}_metadef_{noun}", "rule:metadef_admin")
        for verb in ("add", "modify", "delete")
        for noun in ("namespace", "object", "property", "tag")
    ),
    _image("add_metadef_tags", "rule:metadef_admin"),
    _image("delete_metadef_tags", "rule:metadef_admin"),
    _image("add_metadef_resource_type_association", "rule:metadef_admin"),
    _image("remove_metadef_resource_type_association", "rule:metadef_admin"),
    _image("list_metadef_resource_types", "rule:metadef_default"),
    _image("get_metadef_resource_type_associations", "rule:metadef_default"),
]

RULES = [*IMAGES, *MEMBERS, *TASKS, *METADEFS]
