"""The object updater: container updates an object server could not deliver
(the container server was down or slow) wait in ``async_pending/`` on the
object's device; this sends them again until their container server takes them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import httpx

from overcast.common.threads import in_thread
from overcast.object.daemons.common import NodeDaemon

LOG = logging.getLogger(__name__)


@dataclass
class UpdaterStats:
    sent: int = 0
    failed: int = 0


class ObjectUpdater(NodeDaemon):
    async def run_once(self) -> UpdaterStats:
        stats = UpdaterStats()
        if not self.devices.exists():
            return stats
        pending = sorted(self.devices.glob("*/async_pending/*.json"))
        for path in pending:
            try:
                update = json.loads(await in_thread(path.read_text))
                response = await self.client.request(
                    update["method"],
                    update["url"],
                    headers=update["headers"],
                    timeout=self.timeout,
                )
            except (httpx.HTTPError, OSError, ValueError, KeyError) as exc:
                LOG.info("container update %s still pending: %s", path.name, exc)
                stats.failed += 1
                continue
            if response.status_code < 300:
                path.unlink(missing_ok=True)
                stats.sent += 1
            else:
                stats.failed += 1
        return stats
