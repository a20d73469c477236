"""The real ``openstack`` CLI and openstacksdk against a real ``overcast up``."""

from __future__ import annotations

import openstack
import pytest

from tests.functional.clients import cli, name
from tests.functional.cloud import RunningCloud

pytestmark = pytest.mark.functional


def test_token_issue(running_cloud: RunningCloud) -> None:
    token = cli(running_cloud, "token", "issue")
    assert token["id"] and token["project_id"] and token["user_id"]


def test_readme_walkthrough_project_user_role_and_catalog(running_cloud: RunningCloud) -> None:
    project, user = name("demo2"), name("alice")
    created = cli(running_cloud, "project", "create", project)
    assert created["name"] == project
    cli(running_cloud, "user", "create", "--project", project, "--password", "s3cret", user)
    cli(running_cloud, "role", "add", "--project", project, "--user", user, "member")
    assignments = cli(
        running_cloud, "role", "assignment", "list", "--user", user, "--project", project, "--names"
    )
    assert [a["Role"] for a in assignments] == ["member"]
    catalog = cli(running_cloud, "catalog", "list")
    assert sorted(entry["Type"] for entry in catalog) == [
        "compute",
        "identity",
        "image",
        "object-store",
    ]
    env = {
        "OS_AUTH_URL": running_cloud.auth_url,
        "OS_USERNAME": user,
        "OS_PASSWORD": "s3cret",
        "OS_PROJECT_NAME": project,
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_IDENTITY_API_VERSION": "3",
    }
    token = cli(running_cloud, "token", "issue", cloud_name="", env=env)
    assert token["project_id"] == created["id"]


def test_group_membership_and_group_roles(running_cloud: RunningCloud) -> None:
    group, user, project = name("grp"), name("bob"), name("proj")
    cli(running_cloud, "group", "create", group)
    cli(running_cloud, "user", "create", "--password", "pw-bob", user)
    cli(running_cloud, "project", "create", project)
    cli(running_cloud, "group", "add", "user", group, user)
    members = cli(running_cloud, "user", "list", "--group", group)
    assert [m["Name"] for m in members] == [user]
    cli(running_cloud, "role", "add", "--project", project, "--group", group, "reader")
    effective = cli(
        running_cloud, "role", "assignment", "list", "--user", user, "--effective", "--names"
    )
    assert [(a["Role"], a["Project"].split("@")[0]) for a in effective] == [("reader", project)]


def test_application_credential_create_and_authenticate(running_cloud: RunningCloud) -> None:
    created = cli(running_cloud, "application", "credential", "create", name("appcred"))
    env = {
        "OS_AUTH_TYPE": "v3applicationcredential",
        "OS_AUTH_URL": running_cloud.auth_url,
        "OS_APPLICATION_CREDENTIAL_ID": created["ID"],
        "OS_APPLICATION_CREDENTIAL_SECRET": created["Secret"],
        "OS_IDENTITY_API_VERSION": "3",
    }
    token = cli(running_cloud, "token", "issue", cloud_name="", env=env)
    assert token["project_id"] == created["Project ID"]
    assert "member" in [role["name"] for role in created["Roles"]]


def test_token_revoke(running_cloud: RunningCloud) -> None:
    token = cli(running_cloud, "token", "issue")["id"]
    admin_token, _ = running_cloud.admin_token()
    cli(running_cloud, "token", "revoke", token)
    import httpx

    response = httpx.get(
        f"{running_cloud.auth_url}/auth/tokens",
        headers={"X-Auth-Token": admin_token, "X-Subject-Token": token},
    )
    assert response.status_code == 404


def test_openstacksdk_crud(running_cloud: RunningCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(running_cloud.clouds_yaml))
    conn = openstack.connect(cloud="overcast-admin")
    project = conn.identity.create_project(name=name("sdkproj"), domain_id="default", tags=["a"])
    user = conn.identity.create_user(
        name=name("sdkuser"), password="pw-sdk", default_project_id=project.id
    )
    member = conn.identity.find_role("member")
    conn.identity.assign_project_role_to_user(project, user, member)
    assert conn.identity.validate_user_has_project_role(project, user, member)
    assert project.id in [p.id for p in conn.identity.user_projects(user)]
    fetched = conn.identity.get_project(project.id)
    assert fetched.tags == ["a"]
    conn.identity.update_project(project, description="changed")
    assert conn.identity.get_project(project.id).description == "changed"
    conn.identity.delete_user(user)
    conn.identity.delete_project(project)
    assert conn.identity.find_project(project.id) is None
    demo = openstack.connect(cloud="overcast-demo")
    assert [p.name for p in demo.identity.user_projects(demo.current_user_id)] == ["demo"]
