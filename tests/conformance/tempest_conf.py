"""The ``tempest.conf`` generated for an Overcast cloud.

Every service in the catalog is marked available; a feature Overcast does not
offer yet is switched off here with the reason, and the runner prints the list.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import subprocess
from pathlib import Path

import httpx

from tests.functional.cloud import RunningCloud, public_url

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
    "compute-feature-enabled.live_migration": "one compute node, and no live migration yet",
    "compute-feature-enabled.cold_migration": "one compute node: there is nowhere to migrate to",
    "compute-feature-enabled.interface_attach": "no network service yet: servers have no ports",
    "compute-feature-enabled.config_drive": "the fake driver makes no config drive to read",
    "compute-feature-enabled.metadata_service": "no metadata service (and no guest to ask it)",
    "compute-feature-enabled.change_password": "the fake driver cannot set a guest password",
    "compute-feature-enabled.vnc_console": "no consoles but console output",
    "compute-feature-enabled.spice_console": "no consoles but console output",
    "compute-feature-enabled.serial_console": "no consoles but console output",
    "compute-feature-enabled.personality": "personality files are gone from 2.57, not offered",
    "compute-feature-enabled.stable_rescue": "rescue boots the rescue image only (not stable)",
    "compute-feature-enabled.shelve_migrate": "one compute node",
    "compute-feature-enabled.attach_encrypted_volume": "no block storage service yet",
    "compute-feature-enabled.volume_multiattach": "no block storage service yet",
}
"""``section.option`` -> one-line reason, for every feature flag turned off below."""

COMPUTE_MAX_MICROVERSION = "2.79"
SYNC_REALM, SYNC_CLUSTER = "realm1", "name1"
"""Tempest's default names of the container sync realm and cluster (the cloud's own)."""

CLOUD_SETTINGS = {
    "OVERCAST_IMAGE__REQUIRE_FORMAT_MATCH": "false",
    # Tempest's container sync test names realm1/name1: here, the cloud's own proxy
    "OVERCAST_OBJECT__SYNC_REALMS": json.dumps(
        {SYNC_REALM: {"key": "tempest-realm-key", "clusters": {SYNC_CLUSTER: ""}}}
    ),
}
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
    # what the cloud offers, not only what is tested: Tempest's compute classes need the
    # image client (glance) even when only tempest.api.compute runs
    offered = set(cloud.catalog_types())
    conf["service_available"] = {
        flag: str(service in offered) for service, flag in AVAILABILITY.items() if flag
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
    conf["object-storage"] = {
        "operator_role": "member",
        "reseller_admin_role": "ResellerAdmin",
        "realm_name": SYNC_REALM,
        "cluster_name": SYNC_CLUSTER,
        # a synced object arrives within seconds: a minute means it never will
        "container_sync_timeout": "60",
        "container_sync_interval": "2",
    }
    conf["object-storage-feature-enabled"] = {
        "discoverability": "True",
        "discoverable_apis": "all",
        "container_sync": "True",
        "object_versioning": "True",
    }
    if "compute" in services:
        image_ref, image_ref_alt = bootable_images(cloud)
        conf["compute"] = {
            "image_ref": image_ref,
            "image_ref_alt": image_ref_alt,
            "flavor_ref": "1",
            "flavor_ref_alt": "2",
            "min_compute_nodes": "1",
            "max_microversion": COMPUTE_MAX_MICROVERSION,
            "build_timeout": "60",
        }
        conf["compute-feature-enabled"] = {
            **{
                name.split(".", 1)[1]: "False"
                for name in DISABLED_FEATURES
                if name.startswith("compute-feature-enabled.")
            },
            "resize": "True",
            "console_output": "True",
            "rescue": "True",
            "shelve": "True",
            "snapshot": "True",
            "suspend": "True",
            "pause": "True",
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        conf.write(f)


def bootable_images(cloud: RunningCloud) -> tuple[str, str]:
    """Two small public raw images for Tempest's servers (``image_ref``, ``image_ref_alt``)."""
    token, body = cloud.admin_token()
    endpoint = public_url(body, "image")
    headers = {"X-Auth-Token": token}
    made = []
    for name in ("tempest-image", "tempest-image-alt"):
        meta = {
            "name": name,
            "disk_format": "raw",
            "container_format": "bare",
            "visibility": "public",
        }
        image = httpx.post(f"{endpoint}/v2/images", json=meta, headers=headers, timeout=30)
        image.raise_for_status()
        image_id = image.json()["id"]
        upload = httpx.put(
            f"{endpoint}/v2/images/{image_id}/file",
            content=bytes(1 << 16),
            headers={**headers, "Content-Type": "application/octet-stream"},
            timeout=30,
        )
        upload.raise_for_status()
        made.append(image_id)
    return made[0], made[1]
