"""``/os-instance_usage_audit_log``: which hosts audited instance usage in a period.

Nova's hosts run that audit only with ``instance_usage_audit = True`` (off by
default), for notification consumers. Hosts here never run it, so every compute
host is reported as not run, as Nova reports its hosts by default.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from overcast.common.api import Context, JSONResponse, Router, json_response
from overcast.common.api.errors import BadRequest
from overcast.compute.conductor import nodes
from overcast.compute.handlers.common import PREFIX, Compute
from overcast.compute.models import Service
from overcast.compute.service import ComputeService

router = Router(prefix=f"{PREFIX}/os-instance_usage_audit_log")
FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f")


def audit_period(before: datetime) -> tuple[datetime, datetime]:
    """The last whole month before ``before`` (Nova's default audit period)."""
    end = datetime(before.year, before.month, 1)
    begin = datetime(end.year - 1, 12, 1) if end.month == 1 else end.replace(month=end.month - 1)
    return begin, end


async def _report(service: ComputeService, before: datetime) -> dict[str, Any]:
    """The audit of the period before ``before`` (the list and show wrap it differently)."""
    begin, end = audit_period(before)
    async with service.db.read() as session:
        hosts = list(
            await session.scalars(
                select(Service.host)
                .where(Service.binary == nodes.COMPUTE_BINARY)
                .order_by(Service.host)
            )
        )
    return {
        "hosts_not_run": hosts,
        "log": {},
        "num_hosts": len(hosts),
        "num_hosts_done": 0,
        "num_hosts_not_run": len(hosts),
        "num_hosts_running": 0,
        "overall_status": f"0 of {len(hosts)} hosts done. 0 errors.",
        "period_beginning": begin.strftime(FORMATS[0]),
        "period_ending": end.strftime(FORMATS[0]),
        "total_errors": 0,
        "total_instances": 0,
    }


@router.get("")
async def list_audit_logs(ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-instance-usage-audit-log:list")
    now = service.clock.now().replace(tzinfo=None)
    return json_response({"instance_usage_audit_logs": await _report(service, now)})


@router.get("/{before_timestamp}")
async def show_audit_log(before_timestamp: str, ctx: Context, service: Compute) -> JSONResponse:
    ctx.enforce("os_compute_api:os-instance-usage-audit-log:show")
    for layout in FORMATS:
        try:
            before = datetime.strptime(before_timestamp, layout)
            break
        except ValueError:
            continue
    else:
        raise BadRequest(f"Invalid timestamp for date {before_timestamp}")
    return json_response({"instance_usage_audit_log": await _report(service, before)})
