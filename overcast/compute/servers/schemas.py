"""JSON schemas of server bodies (Nova's, for the versions this API serves)."""

from __future__ import annotations

from typing import Any

from overcast.compute import validation as v

UUID = {"type": "string", "format": "uuid"}
NETWORK = v.object_of(
    {
        "uuid": {"type": "string"},
        "port": {"type": ["string", "null"]},
        "fixed_ip": {"type": "string"},
        "tag": {"type": "string", "maxLength": 60},
    }
)
BLOCK_DEVICE = v.object_of(
    {
        "uuid": {"type": "string"},
        "source_type": {"type": "string", "enum": ["volume", "image", "snapshot", "blank"]},
        "destination_type": {"type": "string", "enum": ["local", "volume"]},
        "boot_index": {"type": ["integer", "string", "null"]},
        "volume_size": v.integer(0),
        "delete_on_termination": v.BOOLEAN,
        "device_name": {"type": ["string", "null"]},
        "device_type": {"type": ["string", "null"]},
        "disk_bus": {"type": ["string", "null"]},
        "guest_format": {"type": ["string", "null"]},
        "no_device": {},
        "tag": {"type": "string"},
        "volume_type": {"type": ["string", "null"]},
    }
)
SERVER: dict[str, Any] = v.object_of(
    {
        "name": v.name(),
        "imageRef": {"type": "string"},
        "flavorRef": {"type": ["string", "integer"], "minLength": 1},
        "adminPass": {"type": "string"},
        "metadata": v.METADATA,
        "networks": {
            "oneOf": [
                {"type": "array", "items": NETWORK},
                {"type": "string", "enum": ["none", "auto"]},
            ]
        },
        "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
        "accessIPv4": {"type": "string", "format": "ipv4"},
        "accessIPv6": {"type": "string", "format": "ipv6"},
        "personality": {"type": "array"},
        "availability_zone": {"type": "string", "minLength": 1, "maxLength": 255},
        "block_device_mapping": {"type": "array"},
        "block_device_mapping_v2": {"type": "array", "items": BLOCK_DEVICE},
        "config_drive": {"type": ["boolean", "string", "null"]},
        "key_name": {"type": "string", "minLength": 1, "maxLength": 255},
        "min_count": v.integer(1),
        "max_count": v.integer(1),
        "return_reservation_id": v.BOOLEAN,
        "security_groups": {
            "type": "array",
            "items": v.object_of({"name": {"type": "string"}}),
        },
        "user_data": {"type": "string", "format": "base64", "maxLength": 65535},
        "description": {"type": ["string", "null"], "maxLength": 255},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 60}, "maxItems": 50},
        "trusted_image_certificates": {"type": ["array", "null"]},
        "host": {"type": "string"},
        "hypervisor_hostname": {"type": "string"},
    },
    required=("name", "flavorRef"),
)
HINTS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "group": {"type": "string", "format": "uuid"},
        "different_host": {"type": ["string", "array"], "items": UUID},
        "same_host": {"type": ["string", "array"], "items": UUID},
    },
    "additionalProperties": True,
}
CREATE: dict[str, Any] = v.object_of(
    {
        "server": SERVER,
        "os:scheduler_hints": HINTS,
        "OS-SCH-HNT:scheduler_hints": HINTS,
    },
    required=("server",),
)
UPDATE: dict[str, Any] = v.wrapped(
    "server",
    v.object_of(
        {
            "name": v.name(),
            "description": {"type": ["string", "null"], "maxLength": 255},
            "accessIPv4": {"type": "string", "format": "ipv4"},
            "accessIPv6": {"type": "string", "format": "ipv6"},
            "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
        }
    ),
)
