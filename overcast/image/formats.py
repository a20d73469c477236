"""What an upload really is: its disk format, virtual size, and whether it is safe to use.

Glance inspects uploaded data since 2024 because a file declared ``raw`` may be a
qcow2 that points a hypervisor at host files (a backing file or an external
data file). The checks here read only the first :data:`HEAD_BYTES` and the last
:data:`TAIL_BYTES` of the data, which the upload keeps as it streams.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEAD_BYTES = 64 * 1024
TAIL_BYTES = 512
SECTOR = 512

RAW_LIKE = frozenset({"raw", "ami", "ari", "aki"})
"""Declared formats whose data has no header of its own."""
INSPECTED = frozenset({"qcow2", "vhd", "vhdx", "vmdk", "vdi", "iso", "ploop"})
"""Declared formats whose data must carry that format's header."""


@dataclass(frozen=True)
class Inspection:
    format: str
    """What the data is: qcow2, vmdk, vhd, vhdx, vdi, iso, ploop or raw."""
    virtual_size: int | None
    """Bytes the guest sees, when the header says (the data size for raw and iso)."""
    unsafe: str | None = None
    """Why the data must not be used (it refers to other files), or None."""


class FormatMismatch(ValueError):
    """The data is not in the declared format, or is unsafe; the message says which."""


def inspect(head: bytes, tail: bytes, size: int) -> Inspection:
    """Identify data from its first bytes (``head``), last bytes (``tail``) and ``size``."""
    for probe in (_qcow2, _vhdx, _vmdk, _vdi, _ploop, _iso):
        found = probe(head, size)
        if found is not None:
            return found
    vhd = _vhd(head, tail)
    if vhd is not None:
        return vhd
    return Inspection("raw", size)


def check(declared: str, found: Inspection, *, require_match: bool) -> int | None:
    """The virtual size to record for data ``found`` under the ``declared`` disk format.

    :raises FormatMismatch: when the data is unsafe, or (with ``require_match``) is not
        what was declared.
    """
    if found.unsafe:
        raise FormatMismatch(f"Image data is not safe to use: {found.unsafe}.")
    if declared == found.format or (declared in RAW_LIKE and found.format in ("raw", "iso")):
        return found.virtual_size
    if require_match and (declared in INSPECTED or declared in RAW_LIKE):
        raise FormatMismatch(
            f"Image data is in {found.format} format, which does not match the image's "
            f"disk_format {declared!r}."
        )
    return None


def _qcow2(head: bytes, size: int) -> Inspection | None:
    if len(head) < 32 or head[:4] != b"QFI\xfb":
        return None
    version, backing_offset = struct.unpack_from(">IQ", head, 4)
    (virtual_size,) = struct.unpack_from(">Q", head, 24)
    if backing_offset:
        return Inspection("qcow2", virtual_size, "the qcow2 image has a backing file")
    if version >= 3 and len(head) >= 80:
        (incompatible,) = struct.unpack_from(">Q", head, 72)
        if incompatible & (1 << 2):
            return Inspection("qcow2", virtual_size, "the qcow2 image has an external data file")
    return Inspection("qcow2", virtual_size)


def _vhdx(head: bytes, size: int) -> Inspection | None:
    if head[:8] != b"vhdxfile":
        return None
    return Inspection("vhdx", None)


def _vmdk(head: bytes, size: int) -> Inspection | None:
    if head[:4] == b"KDMV" and len(head) >= 20:
        (capacity,) = struct.unpack_from("<Q", head, 12)
        return Inspection("vmdk", capacity * SECTOR)
    if head.startswith(b"# Disk DescriptorFile"):
        return Inspection("vmdk", None, "the vmdk descriptor refers to extent files")
    return None


def _vdi(head: bytes, size: int) -> Inspection | None:
    if len(head) < 0x178 or struct.unpack_from("<I", head, 0x40)[0] != 0xBEDA107F:
        return None
    (disk_size,) = struct.unpack_from("<Q", head, 0x170)
    return Inspection("vdi", disk_size)


def _ploop(head: bytes, size: int) -> Inspection | None:
    if head[:16] not in (b"WithoutFreeSpace", b"WithouFreSpacExt"):
        return None
    return Inspection("ploop", None)


def _iso(head: bytes, size: int) -> Inspection | None:
    for offset in (0x8001, 0x8801, 0x9001):
        if head[offset : offset + 5] == b"CD001":
            return Inspection("iso", size)
    return None


def _vhd(head: bytes, tail: bytes) -> Inspection | None:
    for footer in (head[:SECTOR], tail[-SECTOR:]):
        if len(footer) >= 56 and footer[:8] == b"conectix":
            (current_size,) = struct.unpack_from(">Q", footer, 48)
            return Inspection("vhd", current_size)
    return None
