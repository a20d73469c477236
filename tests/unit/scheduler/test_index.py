"""The host index: the hosts it picks for requests, as filters and weighers say."""

from __future__ import annotations

from dataclasses import replace

import pytest

from overcast.scheduler.hosts import DISK_GB, MEMORY_MB, VCPU, HostState, Inventory, RequestSpec
from overcast.scheduler.index import HostIndex, NoValidHost, place
from overcast.scheduler.plugins import FILTERS, WEIGHERS

SMALL = {VCPU: 1, MEMORY_MB: 2048, DISK_GB: 20}


def host(name: str, memory: int = 16384, vcpus: int = 8, **attrs: object) -> HostState:
    inventories = {
        VCPU: Inventory(vcpus, allocation_ratio=4.0),
        MEMORY_MB: Inventory(memory, reserved=512),
        DISK_GB: Inventory(500),
    }
    return HostState(name, inventories, **attrs)  # type: ignore[arg-type]


def index(*hosts: HostState, ram_multiplier: float = 1.0, candidates: int = 8) -> HostIndex:
    the_index = HostIndex(
        [cls() for cls in FILTERS.values()],
        [(WEIGHERS["RAMWeigher"](), ram_multiplier),
         (WEIGHERS["ServerGroupSoftAffinityWeigher"](), 10.0)],
        candidates=candidates,
    )  # fmt: skip
    the_index.load(hosts)
    return the_index


def test_capacity_counts_reserved_and_allocation_ratio() -> None:
    h = host("h1", memory=4096, vcpus=2)
    assert h.free(MEMORY_MB) == 3584
    assert h.free(VCPU) == 8
    assert h.fits({VCPU: 8, MEMORY_MB: 3584})
    assert not h.fits({VCPU: 9})


def test_spreading_fills_the_emptiest_host_first() -> None:
    idx = index(host("a"), host("b"), host("c"))
    chosen = place(idx, RequestSpec(SMALL), count=6)
    assert sorted(chosen) == ["a", "a", "b", "b", "c", "c"]


def test_packing_fills_one_host_before_the_next() -> None:
    idx = index(host("a"), host("b", memory=8192), ram_multiplier=-1.0)
    chosen = place(idx, RequestSpec(SMALL), count=3)
    assert chosen == ["b", "b", "b"]  # b has the least room that still fits


def test_hosts_never_take_more_than_their_capacity() -> None:
    idx = index(host("a", memory=4608), host("b", memory=4608))  # room for 2 each
    assert sorted(place(idx, RequestSpec(SMALL), count=4)) == ["a", "a", "b", "b"]
    with pytest.raises(NoValidHost, match="No valid host was found"):
        place(idx, RequestSpec(SMALL))
    assert idx.hosts["a"].used[MEMORY_MB] == 4096


def test_a_failed_multi_create_takes_nothing() -> None:
    idx = index(host("a", memory=4608))
    with pytest.raises(NoValidHost):
        place(idx, RequestSpec(SMALL), count=3)
    assert idx.hosts["a"].used.get(MEMORY_MB, 0) == 0


def test_released_resources_can_be_taken_again() -> None:
    idx = index(host("a", memory=2560))
    place(idx, RequestSpec(SMALL))
    idx.release("a", SMALL)
    assert place(idx, RequestSpec(SMALL)) == ["a"]


def test_down_and_disabled_hosts_are_not_chosen_until_they_are_back() -> None:
    idx = index(host("a", memory=65536), host("b"))
    idx.set_state("a", up=False)
    assert place(idx, RequestSpec(SMALL), count=2) == ["b", "b"]
    idx.set_state("a", up=True)
    idx.set_state("b", enabled=False)
    assert place(idx, RequestSpec(SMALL)) == ["a"]


def test_availability_zones_aggregates_and_traits_narrow_the_choice() -> None:
    idx = index(
        host("a", memory=65536, availability_zone="az1"),
        host("b", availability_zone="az2", aggregates=frozenset({"ssd"})),
        host("c", availability_zone="az2", traits=frozenset({"HW_CPU_X86_AVX2"})),
    )
    assert place(idx, RequestSpec(SMALL, availability_zone="az2"), 1)[0] in {"b", "c"}
    assert place(idx, RequestSpec(SMALL, aggregates=frozenset({"ssd"}))) == ["b"]
    spec = RequestSpec(SMALL, required_traits=frozenset({"HW_CPU_X86_AVX2"}))
    assert place(idx, spec) == ["c"]
    spec = RequestSpec(SMALL, forbidden_traits=frozenset({"HW_CPU_X86_AVX2"}))
    assert "c" not in place(idx, spec, count=4)
    with pytest.raises(NoValidHost):
        place(idx, RequestSpec(SMALL, availability_zone="nowhere"))


def test_anti_affinity_puts_each_member_on_another_host() -> None:
    idx = index(*(host(f"h{i}") for i in range(3)))
    spec = RequestSpec(SMALL, group_policy="anti-affinity")
    assert sorted(place(idx, spec, count=3)) == ["h0", "h1", "h2"]
    with pytest.raises(NoValidHost):
        place(idx, spec, count=4)
    spec = replace(spec, max_server_per_host=2)
    assert sorted(place(idx, spec, count=6)) == ["h0", "h0", "h1", "h1", "h2", "h2"]


def test_affinity_keeps_the_group_on_its_host() -> None:
    idx = index(host("a"), host("b", memory=65536))
    spec = RequestSpec(SMALL, group_policy="affinity", group_hosts=frozenset({"a"}))
    assert place(idx, spec, count=3) == ["a", "a", "a"]
    first = place(idx, RequestSpec(SMALL, group_policy="affinity"), count=3)
    assert len(set(first)) == 1


def test_soft_policies_prefer_but_do_not_insist() -> None:
    idx = index(host("a", memory=4608), host("b"))
    together = place(idx, RequestSpec(SMALL, group_policy="soft-affinity"), count=3)
    assert together[:2] == [together[0]] * 2
    idx = index(host("a"), host("b"))
    apart = place(idx, RequestSpec(SMALL, group_policy="soft-anti-affinity"), count=3)
    assert len(set(apart[:2])) == 2


def test_ignored_and_forced_hosts() -> None:
    idx = index(host("a", memory=65536), host("b"), host("c"))
    assert place(idx, RequestSpec(SMALL, ignore_hosts=frozenset({"a"})))[0] != "a"
    assert place(idx, RequestSpec(SMALL, force_hosts=frozenset({"c"}))) == ["c"]


def test_a_host_replaced_or_removed_is_seen_at_once() -> None:
    idx = index(host("a"), host("b", memory=4096))
    idx.upsert(host("b", memory=131072))
    assert place(idx, RequestSpec(SMALL)) == ["b"]
    idx.remove("b")
    assert place(idx, RequestSpec(SMALL)) == ["a"]
    assert len(idx) == 1


def test_selection_stops_at_the_first_host_without_room(monkeypatch: pytest.MonkeyPatch) -> None:
    hosts = [host(f"h{i:04}", memory=2048 + i) for i in range(2000)]
    idx = index(*hosts, host("big", memory=65536))
    looked_at: list[str] = []
    real = FILTERS["ComputeFilter"].host_passes

    def counting(self: object, h: HostState, spec: RequestSpec) -> bool:
        looked_at.append(h.name)
        return real(self, h, spec)  # type: ignore[arg-type]

    monkeypatch.setattr(FILTERS["ComputeFilter"], "host_passes", counting)
    idx.filters = [cls() for cls in FILTERS.values()]
    # only "big" has 4 GiB free: one host is examined, not 2001
    assert place(idx, RequestSpec({MEMORY_MB: 4096})) == ["big"]
    assert looked_at == ["big"]
