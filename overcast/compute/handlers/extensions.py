"""``/extensions``: the v2-era extension names, as Nova still lists them.

Nova froze this list when microversions replaced extensions; clients such as
openstacksdk still read it, and Tempest expects ``os-consoles`` in it. It names
the features served here, plus the consoles entry Nova keeps although its API
is gone (console output, the part served here, is ``os-console-output``).
"""

from __future__ import annotations

from typing import Any

from overcast.common.api import Context, JSONResponse, Router, json_response
from overcast.common.api.errors import NotFound
from overcast.compute.handlers.common import PREFIX

router = Router(prefix=PREFIX)

UPDATED = "2014-12-03T00:00:00Z"
NAMESPACE = "http://docs.openstack.org/compute/ext/fake_xml"

# (name, alias, description)
EXTENSIONS = (
    ("AccessIPs", "os-access-ips", "Access IPs support."),
    ("AdminActions", "os-admin-actions", "Enable admin-only server actions."),
    ("Aggregates", "os-aggregates", "Admin-only aggregate administration."),
    ("AvailabilityZone", "os-availability-zone", "Availability zone listing."),
    ("ConsoleOutput", "os-console-output", "Console log output support."),
    ("Consoles", "os-consoles", "Interactive console support."),
    ("DiskConfig", "OS-DCF", "Disk management extension."),
    ("ExtendedAvailabilityZone", "OS-EXT-AZ", "Availability zone of each server."),
    ("ExtendedServerAttributes", "OS-EXT-SRV-ATTR", "Extended server attributes."),
    ("ExtendedStatus", "OS-EXT-STS", "Extended status of each server."),
    ("ExtendedVolumes", "os-extended-volumes", "Extended volume attributes."),
    ("FlavorAccess", "os-flavor-access", "Flavor access support."),
    ("FlavorExtraSpecs", "os-flavor-extra-specs", "Flavor extra specs support."),
    ("FlavorManage", "os-flavor-manage", "Flavor create and delete."),
    ("Hosts", "os-hosts", "Admin-only host administration."),
    ("Hypervisors", "os-hypervisors", "Admin-only hypervisor administration."),
    ("InstanceActions", "os-instance-actions", "View a log of actions on servers."),
    ("Keypairs", "os-keypairs", "Keypair support."),
    ("Lock", "os-lock-server", "Lock and unlock servers."),
    ("Migrations", "os-migrations", "Provide data on migrations."),
    ("MultipleCreate", "os-multiple-create", "Allow creating many servers in one request."),
    ("PauseServer", "os-pause-server", "Pause and unpause servers."),
    ("QuotaClasses", "os-quota-class-sets", "Quota classes management support."),
    ("Quotas", "os-quota-sets", "Quotas management support."),
    ("Rescue", "os-rescue", "Server rescue mode."),
    ("SchedulerHints", "OS-SCH-HNT", "Pass arbitrary key/value pairs to the scheduler."),
    ("ServerDiagnostics", "os-server-diagnostics", "Server diagnostics support."),
    ("ServerGroups", "os-server-groups", "Server group support."),
    ("ServerStartStop", "os-server-start-stop", "Start and stop servers."),
    ("ServerUsage", "OS-SRV-USG", "Launch and termination times of servers."),
    ("Services", "os-services", "Services support."),
    ("Shelve", "os-shelve", "Shelve and unshelve servers."),
    ("SimpleTenantUsage", "os-simple-tenant-usage", "Simple tenant usage extension."),
    ("SuspendServer", "os-suspend-server", "Suspend and resume servers."),
    ("UserData", "os-user-data", "User data for servers."),
)
ALIASES = tuple(alias for _, alias, _ in EXTENSIONS)


def _view(name: str, alias: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "alias": alias,
        "description": description,
        "namespace": NAMESPACE,
        "updated": UPDATED,
        "links": [],
    }


@router.get("/extensions")
async def list_extensions(ctx: Context) -> JSONResponse:
    ctx.enforce("os_compute_api:extensions")
    return json_response({"extensions": [_view(*entry) for entry in EXTENSIONS]})


@router.get("/extensions/{alias}")
async def show_extension(alias: str, ctx: Context) -> JSONResponse:
    ctx.enforce("os_compute_api:extensions")
    for entry in EXTENSIONS:
        if entry[1] == alias:
            return json_response({"extension": _view(*entry)})
    raise NotFound(f"Extension {alias} could not be found.")
