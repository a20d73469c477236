"""The ``tempest.conf`` generated for an Overcast cloud.

Every service in the catalog is marked available; a feature Overcast does not
offer yet is switched off here with the reason, and the runner prints the list.
"""

from __future__ import annotations

import configparser
import hashlib
import subprocess
from pathlib import Path

from tests.functional.cloud import RunningCloud

COMPLIANCE = {
    "lockout_failure_attempts": 2,
    "lockout_duration": 5,
    "unique_last_password_count": 2,
    "minimum_password_age": 0,
}
"""Keystone's [security_compliance] as devstack sets it for Tempest (and as Tempest expects)."""

DISABLED_FEATURES: dict[str, str] = {}
"""``section.option`` -> one-line reason, for every feature flag turned off below."""

AVAILABILITY = {
    "identity": None,
    "compute": "nova",
    "image": "glance",
    "network": "neutron",
    "block-storage": "cinder",
    "object-store": "swift",
}


def init_workspace(bin_dir: Path, workspace: Path) -> None:
    name = "overcast-" + hashlib.sha1(str(workspace).encode()).hexdigest()[:10]
    subprocess.run(
        [str(bin_dir / "tempest"), "init", "--name", name, str(workspace)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def write(path: Path, cloud: RunningCloud, services: list[str]) -> None:
    conf = configparser.ConfigParser()
    conf["DEFAULT"] = {"log_file": "tempest.log"}
    conf["auth"] = {
        "use_dynamic_credentials": "True",
        "admin_username": "admin",
        "admin_password": cloud.admin_password,
        "admin_project_name": "admin",
        "admin_user_domain_name": "Default",
        "admin_project_domain_name": "Default",
        "admin_domain_name": "Default",
        "create_isolated_networks": "False",
    }
    conf["identity"] = {
        "uri_v3": cloud.auth_url,
        "auth_version": "v3",
        "region": "RegionOne",
        "v3_endpoint_type": "public",
        "admin_role": "admin",
        "default_domain_id": "default",
        "user_lockout_failure_attempts": str(COMPLIANCE["lockout_failure_attempts"]),
        "user_lockout_duration": str(COMPLIANCE["lockout_duration"]),
        "user_unique_last_password_count": str(COMPLIANCE["unique_last_password_count"]),
        "user_minimum_password_age": str(COMPLIANCE["minimum_password_age"]),
    }
    conf["identity-feature-enabled"] = {
        "trust": "True",
        "access_rules": "True",
        "api_extensions": "all",
        "security_compliance": "True",
        "domain_specific_drivers": "False",
        "immutable_user_source": "False",
    }
    conf["service_available"] = {
        flag: str(service in services) for service, flag in AVAILABILITY.items() if flag
    }
    conf["service_available"]["horizon"] = "False"
    conf["validation"] = {"run_validation": "False"}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        conf.write(f)
