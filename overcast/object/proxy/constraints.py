"""Swift's limits on names, metadata and sizes, checked before anything is stored.

The values are Swift's defaults; ``/info`` publishes them, and clients (Tempest
among them) read them there to probe each limit from both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Limits:
    max_file_size: int = 5 * 1024**3
    max_meta_name_length: int = 128
    max_meta_value_length: int = 256
    max_meta_count: int = 90
    max_meta_overall_size: int = 4096
    max_header_size: int = 8192
    max_object_name_length: int = 1024
    container_listing_limit: int = 10_000
    account_listing_limit: int = 10_000
    max_account_name_length: int = 256
    max_container_name_length: int = 256
    extra_header_count: int = 0

    def info(self) -> dict[str, int]:
        """What ``/info`` shows under ``swift``."""
        return asdict(self)


class Invalid(ValueError):
    """A request Swift refuses with 400 (the message says why)."""


def check_metadata(headers: Mapping[str, str], kind: str, limits: Limits) -> None:
    """Check the ``X-<kind>-Meta-*`` headers of a request.

    :raises Invalid: when a name or value is too long, there are too many, or
        they are too big together.
    """
    prefix = f"x-{kind}-meta-"
    count = size = 0
    for name, value in headers.items():
        low = name.lower()
        if not low.startswith(prefix):
            continue
        key = low[len(prefix) :]
        if not key:
            raise Invalid("Metadata name cannot be empty")
        count += 1
        size += len(key.encode()) + len(value.encode())
        if len(key.encode()) > limits.max_meta_name_length:
            raise Invalid(f"Metadata name too long: {prefix}{key}")
        if len(value.encode()) > limits.max_meta_value_length:
            raise Invalid(
                f"Metadata value longer than {limits.max_meta_value_length}: {prefix}{key}"
            )
        if count > limits.max_meta_count:
            raise Invalid(f"Too many metadata items; max {limits.max_meta_count}")
        if size > limits.max_meta_overall_size:
            raise Invalid(f"Total metadata too large; max {limits.max_meta_overall_size}")


def check_container_name(name: str, limits: Limits) -> None:
    if "/" in name:
        raise Invalid("Container name cannot contain slashes")
    if len(name.encode()) > limits.max_container_name_length:
        raise Invalid(f"Container name length of {len(name)} longer than "
                      f"{limits.max_container_name_length}")  # fmt: skip


def check_object_name(name: str, limits: Limits) -> None:
    if len(name.encode()) > limits.max_object_name_length:
        raise Invalid(f"Object name length of {len(name)} longer than "
                      f"{limits.max_object_name_length}")  # fmt: skip
