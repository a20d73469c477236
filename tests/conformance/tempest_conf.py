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

DISABLED_FEATURES: dict[str, str] = {
    "image-feature-enabled.import_image": (
        "interoperable image import (stage + glance-direct/web-download/copy-image) is not "
        "offered yet; images get their data by upload"
    ),
    "image-feature-enabled.manage_locations": (
        "image locations are not exposed (show_multiple_locations is off, as in Glance's "
        "default): data is only reached through the API; this also skips the http-store tests"
    ),
    "image-feature-enabled.http_store_enabled": "there is no read-only http store",
    "image-feature-enabled.store_weight_enabled": "one store, so no store weights",
    "image.image_caching_enabled": (
        "no image cache: the file store is local disk already, there is nothing to cache"
    ),
    "image-feature-enabled.image_format_enforcement": (
        "the conformance cloud runs with [image] require_format_match = false, because "
        "Tempest's listing tests upload random bytes labelled qcow2/vhd/ami; the default "
        "cloud enforces formats (covered by tests/api/image)"
    ),
}
"""``section.option`` -> one-line reason, for every feature flag turned off below."""

CLOUD_SETTINGS = {"OVERCAST_IMAGE__REQUIRE_FORMAT_MATCH": "false"}
"""Settings of the cloud the runner starts, to match the flags above."""

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
    conf["image"] = {"image_caching_enabled": "False"}
    conf["image-feature-enabled"] = {
        "import_image": "False",
        "image_format_enforcement": "False",
        "manage_locations": "False",
        "http_store_enabled": "False",
        "store_weight_enabled": "False",
        "os_glance_reserved": "True",
        "do_secure_hash": "True",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        conf.write(f)
