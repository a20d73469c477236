"""Services, availability zones, hypervisors, hosts, aggregates, usage and diagnostics."""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.compute.conductor_helpers import boot, server_body, wait_for_status
from tests.api.compute.conftest import ComputeCloud, latest
from tests.api.identity.conftest import Api


def host_of(cloud: ComputeCloud) -> str:
    return f"api-{cloud.backend}"


async def compute_service(admin: Api, cloud: ComputeCloud) -> dict[str, Any]:
    listed = await latest(admin).get("/v2.1/os-services", params={"binary": "nova-compute"})
    services = [s for s in listed.json()["services"] if s["host"] == host_of(cloud)]
    assert len(services) == 1
    return services[0]


async def test_services_list_the_control_services_and_the_compute_host(
    admin: Api, tenant: Api, compute_cloud: ComputeCloud
) -> None:
    services = (await admin.get("/v2.1/os-services")).json()["services"]
    binaries = {s["binary"] for s in services}
    assert {"nova-compute", "nova-conductor", "nova-scheduler"} <= binaries
    compute = next(s for s in services if s["host"] == host_of(compute_cloud))
    assert compute["state"] == "up"
    assert compute["status"] == "enabled"
    assert compute["zone"] == "nova"
    assert isinstance(compute["id"], int)
    conductor = next(s for s in services if s["binary"] == "nova-conductor")
    assert conductor["zone"] == "internal"
    assert (await tenant.get("/v2.1/os-services")).status_code == 403


async def test_a_disabled_host_gets_no_new_servers(
    admin: Api, tenant: Api, compute_cloud: ComputeCloud
) -> None:
    body = {"host": host_of(compute_cloud), "binary": "nova-compute", "disabled_reason": "test"}
    disabled = await admin.put("/v2.1/os-services/disable-log-reason", json=body)
    assert disabled.status_code == 200
    assert disabled.json()["service"]["status"] == "disabled"
    try:
        response = await tenant.post("/v2.1/servers", json=server_body(compute_cloud))
        failed = await wait_for_status(tenant, response.json()["server"]["id"], "ERROR")
        assert failed["fault"]["message"].startswith("No valid host was found")
        zones = (await tenant.get("/v2.1/os-availability-zone")).json()
        assert zones["availabilityZoneInfo"] == []
    finally:
        enable = {"host": host_of(compute_cloud), "binary": "nova-compute"}
        assert (await admin.put("/v2.1/os-services/enable", json=enable)).status_code == 200
    await boot(tenant, compute_cloud)


async def test_services_by_uuid_from_2_53_and_forced_down(
    admin: Api, tenant: Api, compute_cloud: ComputeCloud
) -> None:
    await boot(tenant, compute_cloud)
    service = await compute_service(admin, compute_cloud)
    url = f"/v2.1/os-services/{service['id']}"
    try:
        down = await latest(admin).put(url, json={"forced_down": True})
        assert down.json()["service"]["state"] == "down"
        assert down.json()["service"]["forced_down"] is True
        bad = await latest(admin).put(url, json={"status": "enabled", "disabled_reason": "x"})
        assert bad.status_code == 400
    finally:
        await latest(admin).put(url, json={"forced_down": False})
    assert (await compute_service(admin, compute_cloud))["state"] == "up"
    missing = await latest(admin).put("/v2.1/os-services/nope", json={"status": "enabled"})
    assert missing.status_code == 404
    busy = await latest(admin).delete(url)
    assert busy.status_code == 409
    assert "hosting instances" in busy.json()["conflictingRequest"]["message"]


async def test_availability_zones(admin: Api, tenant: Api, compute_cloud: ComputeCloud) -> None:
    zones = (await tenant.get("/v2.1/os-availability-zone")).json()["availabilityZoneInfo"]
    assert {"zoneName": "nova", "zoneState": {"available": True}, "hosts": None} in zones
    detail = (await admin.get("/v2.1/os-availability-zone/detail")).json()
    names = {z["zoneName"]: z for z in detail["availabilityZoneInfo"]}
    assert host_of(compute_cloud) in names["nova"]["hosts"]
    assert "nova-conductor" in next(iter(names["internal"]["hosts"].values()))
    assert (await tenant.get("/v2.1/os-availability-zone/detail")).status_code == 403


async def test_hypervisors(admin: Api, tenant: Api, compute_cloud: ComputeCloud) -> None:
    await boot(tenant, compute_cloud)
    listed = (await admin.get("/v2.1/os-hypervisors")).json()["hypervisors"]
    mine = next(h for h in listed if h["hypervisor_hostname"] == host_of(compute_cloud))
    assert mine["state"] == "up"
    shown = (await admin.get(f"/v2.1/os-hypervisors/{mine['id']}")).json()["hypervisor"]
    assert shown["hypervisor_type"] == "fake"
    assert shown["running_vms"] >= 1
    assert shown["vcpus_used"] >= 1
    assert isinstance(shown["cpu_info"], str)
    assert isinstance((await latest(admin).get("/v2.1/os-hypervisors/detail")).json()[
        "hypervisors"][0]["cpu_info"], dict)  # fmt: skip
    stats = (await admin.get("/v2.1/os-hypervisors/statistics")).json()["hypervisor_statistics"]
    assert stats["count"] >= 1
    uptime = await admin.get(f"/v2.1/os-hypervisors/{mine['id']}/uptime")
    assert "up" in uptime.json()["hypervisor"]["uptime"]
    search = await admin.get(f"/v2.1/os-hypervisors/{compute_cloud.backend}/search")
    assert search.json()["hypervisors"][0]["id"] == mine["id"]
    servers = await admin.get(f"/v2.1/os-hypervisors/{compute_cloud.backend}/servers")
    assert servers.json()["hypervisors"][0]["servers"]
    assert (await admin.get("/v2.1/os-hypervisors/9999")).status_code == 404
    assert (await admin.get("/v2.1/os-hypervisors/nope/search")).status_code == 404
    assert (await tenant.get("/v2.1/os-hypervisors")).status_code == 403
    new = (await latest(admin).get("/v2.1/os-hypervisors", params={"with_servers": "1"})).json()
    assert any(h.get("servers") for h in new["hypervisors"])


async def test_hosts_before_2_43(admin: Api, tenant: Api, compute_cloud: ComputeCloud) -> None:
    host = host_of(compute_cloud)
    hosts = (await admin.get("/v2.1/os-hosts")).json()["hosts"]
    assert {"host_name": host, "service": "compute", "zone": "nova"} in hosts
    only = (await admin.get("/v2.1/os-hosts", params={"zone": "nowhere"})).json()["hosts"]
    assert only == []
    blank = (await admin.get("/v2.1/os-hosts", params={"zone": ""})).json()["hosts"]
    assert blank == hosts
    shown = (await admin.get(f"/v2.1/os-hosts/{host}")).json()["host"]
    assert [r["resource"]["project"] for r in shown[:3]] == ["(total)", "(used_now)", "(used_max)"]
    assert (await admin.get("/v2.1/os-hosts/nope")).status_code == 404
    assert (await admin.put(f"/v2.1/os-hosts/{host}", json={})).status_code == 400
    bad = await admin.put(f"/v2.1/os-hosts/{host}", json={"status": "sideways"})
    assert bad.status_code == 400
    on = await admin.put(f"/v2.1/os-hosts/{host}", json={"maintenance_mode": "enable"})
    assert on.json()["maintenance_mode"] == "on_maintenance"
    off = await admin.put(
        f"/v2.1/os-hosts/{host}", json={"maintenance_mode": "disable", "status": "enable"}
    )
    assert off.json() == {"host": host, "maintenance_mode": "off_maintenance", "status": "enabled"}
    assert (await admin.get(f"/v2.1/os-hosts/{host}/reboot")).status_code == 501
    assert (await admin.get("/v2.1/os-hosts/nope/startup")).status_code == 404
    assert (await tenant.get("/v2.1/os-hosts")).status_code == 403
    assert (await latest(admin).get("/v2.1/os-hosts")).status_code == 404


async def test_aggregates_and_the_zones_they_make(
    admin: Api, tenant: Api, compute_cloud: ComputeCloud
) -> None:
    host = host_of(compute_cloud)
    name = f"agg-{compute_cloud.backend}-{tenant.project_id[:6]}"
    made = await latest(admin).post(
        "/v2.1/os-aggregates", json={"aggregate": {"name": name, "availability_zone": "az-x"}}
    )
    assert made.status_code == 200
    aggregate = made.json()["aggregate"]
    assert aggregate["availability_zone"] == "az-x"
    assert aggregate["uuid"]
    assert "hosts" not in aggregate and "metadata" not in aggregate  # as Nova answers a create
    url = f"/v2.1/os-aggregates/{aggregate['id']}"
    dup = await admin.post("/v2.1/os-aggregates", json={"aggregate": {"name": name}})
    assert dup.status_code == 409
    added = await admin.post(f"{url}/action", json={"add_host": {"host": host}})
    assert added.json()["aggregate"]["hosts"] == [host]
    try:
        again = await admin.post(f"{url}/action", json={"add_host": {"host": host}})
        assert again.status_code == 409
        assert (await admin.delete(url)).status_code == 400
        server = await boot(tenant, compute_cloud, availability_zone="az-x")
        assert server["OS-EXT-AZ:availability_zone"] == "az-x"
        meta = await admin.post(f"{url}/action", json={"set_metadata": {"metadata": {"k": "v"}}})
        assert meta.json()["aggregate"]["metadata"] == {"availability_zone": "az-x", "k": "v"}
        unset = await admin.post(f"{url}/action", json={"set_metadata": {"metadata": {"k": None}}})
        assert unset.json()["aggregate"]["metadata"] == {"availability_zone": "az-x"}
    finally:
        removed = await admin.post(f"{url}/action", json={"remove_host": {"host": host}})
        assert removed.status_code == 200
    assert (
        await admin.post(f"{url}/action", json={"add_host": {"host": "nope"}})
    ).status_code == 404
    assert (await admin.post(f"{url}/action", json={"fly": {}})).status_code == 400
    renamed = await admin.put(url, json={"aggregate": {"name": f"{name}-2"}})
    assert renamed.json()["aggregate"]["name"] == f"{name}-2"
    assert (await tenant.get("/v2.1/os-aggregates")).status_code == 403
    assert (await admin.delete(url)).status_code == 200
    assert (await admin.get(url)).status_code == 404


async def test_usage_counts_hours_per_project(
    admin: Api, tenant: Api, other: Api, compute_cloud: ComputeCloud
) -> None:
    await boot(tenant, compute_cloud)
    url = f"/v2.1/os-simple-tenant-usage/{tenant.project_id}"
    # a running server counts until the end of the period: decades here
    params = {"start": "2000-01-01T00:00:00", "end": "2100-01-01T00:00:00"}
    usage = (await tenant.get(url, params=params)).json()["tenant_usage"]
    assert usage["total_hours"] > 24 * 365
    assert usage["total_memory_mb_usage"] == usage["total_hours"] * 512
    assert usage["server_usages"][0]["flavor"] == "m1.tiny"
    assert (await other.get(url, params=params)).status_code == 403
    everyone = await admin.get("/v2.1/os-simple-tenant-usage", params=params)
    assert tenant.project_id in {u["tenant_id"] for u in everyone.json()["tenant_usages"]}
    backwards = {"start": "2100-01-01T00:00:00", "end": "2000-01-01T00:00:00"}
    assert (await tenant.get(url, params=backwards)).status_code == 400
    assert (await tenant.get(url, params={"start": "yesterday"})).status_code == 400


async def test_diagnostics_are_for_admins(
    admin: Api, tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    url = f"/v2.1/servers/{server['id']}/diagnostics"
    assert (await tenant.get(url)).status_code == 403
    standard = (await latest(admin).get(url)).json()
    assert standard["state"] == "running"
    assert standard["driver"] == "libvirt"  # one of the families Nova's API knows
    assert standard["num_cpus"] == 1
    assert standard["memory_details"]["maximum"] == 512
    legacy = (await admin.get(url)).json()
    assert legacy["cpu0_time"] == 0


async def test_usage_pages_by_server_from_2_40(tenant: Api, compute_cloud: ComputeCloud) -> None:
    first = await boot(tenant, compute_cloud)
    second = await boot(tenant, compute_cloud)
    url = f"/v2.1/os-simple-tenant-usage/{tenant.project_id}"
    params = {"start": "2000-01-01T00:00:00", "end": "2100-01-01T00:00:00", "limit": "1"}
    page = (await latest(tenant).get(url, params=params)).json()
    [one] = [u["instance_id"] for u in page["tenant_usage"]["server_usages"]]
    assert f"marker={one}" in page["tenant_usage_links"][0]["href"]
    after = await latest(tenant).get(url, params={**params, "marker": one})
    [two] = [u["instance_id"] for u in after.json()["tenant_usage"]["server_usages"]]
    assert {one, two} == {first["id"], second["id"]}  # each once, in creation order
    bad = await latest(tenant).get(url, params={**params, "marker": "nope"})
    assert bad.status_code == 400


async def test_external_events_are_answered_per_server(
    admin: Api, tenant: Api, compute_cloud: ComputeCloud
) -> None:
    server = await boot(tenant, compute_cloud)
    missing = str(uuid.uuid4())
    events = [
        {"name": "network-changed", "server_uuid": server["id"], "tag": "port-1"},
        {"name": "network-vif-plugged", "server_uuid": missing},
    ]
    response = await admin.post("/v2.1/os-server-external-events", json={"events": events})
    assert response.status_code == 207
    first, second = response.json()["events"]
    assert (first["code"], first["status"], first["tag"]) == (200, "completed", "port-1")
    assert (second["code"], second["status"]) == (404, "failed")
    nobody = await admin.post("/v2.1/os-server-external-events", json={"events": events[1:]})
    assert nobody.status_code == 404
    assert (
        await tenant.post("/v2.1/os-server-external-events", json={"events": events})
    ).status_code == 403
    power = {"name": "power-update", "server_uuid": server["id"], "tag": "POWER_OFF"}
    early = await admin.post("/v2.1/os-server-external-events", json={"events": [power]})
    assert early.status_code == 400  # power-update exists from 2.76
    done = await latest(admin).post("/v2.1/os-server-external-events", json={"events": [power]})
    assert done.json()["events"][0]["code"] == 200
    shown = (await tenant.get(f"/v2.1/servers/{server['id']}")).json()["server"]
    assert shown["status"] == "SHUTOFF"
    bad = {"name": "network-changed", "server_uuid": "not-a-uuid"}
    assert (
        await admin.post("/v2.1/os-server-external-events", json={"events": [bad]})
    ).status_code == 400


async def test_the_usage_audit_log_reports_no_host_ran_it(
    admin: Api, tenant: Api, compute_cloud: ComputeCloud
) -> None:
    logs = (await admin.get("/v2.1/os-instance_usage_audit_log")).json()
    log = logs["instance_usage_audit_logs"]
    assert host_of(compute_cloud) in log["hosts_not_run"]
    assert log["num_hosts_done"] == 0 and log["num_hosts"] == len(log["hosts_not_run"])
    before = await admin.get("/v2.1/os-instance_usage_audit_log/2026-03-15 10:00:00")
    period = before.json()["instance_usage_audit_log"]
    assert (period["period_beginning"], period["period_ending"]) == (
        "2026-02-01 00:00:00",
        "2026-03-01 00:00:00",
    )
    january = await admin.get("/v2.1/os-instance_usage_audit_log/2026-01-02 00:00:00")
    assert january.json()["instance_usage_audit_log"]["period_beginning"] == "2025-12-01 00:00:00"
    bad = await admin.get("/v2.1/os-instance_usage_audit_log/yesterday")
    assert bad.status_code == 400
    assert bad.json()["badRequest"]["message"] == "Invalid timestamp for date yesterday"
    assert (await tenant.get("/v2.1/os-instance_usage_audit_log")).status_code == 403
