"""The object auditor: reads every object back and quarantines the ones whose
bytes no longer match their ETag (or whose files are unreadable).

A quarantined object leaves its partition, so that replica's suffix hash
changes and the replicator brings a good copy back from another replica.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from overcast.common.threads import in_thread
from overcast.object.daemons.common import NodeDaemon
from overcast.object.storage.diskfile import Corrupt, DiskFile, NotFound, data_dir

LOG = logging.getLogger(__name__)
CHUNK = 1024 * 1024


@dataclass
class AuditStats:
    checked: int = 0
    bytes: int = 0
    quarantined: int = 0


def object_files(devices: Path, policies: list[int]) -> Iterator[DiskFile]:
    """Every object directory on this node's devices."""
    for device in sorted(p for p in devices.iterdir() if p.is_dir()):
        for policy in policies:
            folder = device / data_dir(policy)
            if not folder.is_dir():
                continue
            for part in sorted(n for n in os.listdir(folder) if n.isdigit()):
                for suffix in sorted(os.listdir(folder / part)):
                    for hash_ in sorted(os.listdir(folder / part / suffix)):
                        yield DiskFile(device, policy, int(part), hash_)


def audit(df: DiskFile) -> tuple[int, str | None]:
    """(bytes read, why the object is corrupt or None)."""
    try:
        found = df.current()
    except NotFound:
        return 0, None
    except Corrupt as exc:
        return 0, str(exc)
    digest = hashlib.md5(usedforsecurity=False)
    read = 0
    try:
        for chunk in found.chunks(size=CHUNK):
            digest.update(chunk)
            read += len(chunk)
    except Corrupt as exc:
        return read, str(exc)
    expected = str(found.metadata.get("ETag", ""))
    if str(found.metadata.get("Content-Length", read)) != str(read):
        return read, f"{read} bytes where its metadata says {found.metadata['Content-Length']}"
    if digest.hexdigest() != expected:
        return read, f"its bytes hash to {digest.hexdigest()}, not its ETag {expected}"
    return read, None


class ObjectAuditor(NodeDaemon):
    async def run_once(self) -> AuditStats:
        stats = AuditStats()
        if not self.devices.exists():
            return stats
        found = await in_thread(lambda: list(object_files(self.devices, self.policies)))
        for df in found:
            read, problem = await in_thread(audit, df)
            stats.checked += 1
            stats.bytes += read
            if problem is not None:
                LOG.warning("quarantining %s: %s", df.path, problem)
                await in_thread(df.quarantine)
                stats.quarantined += 1
        return stats
