"""The API status of an instance, from its vm_state and task_state, as Nova shows it."""

from __future__ import annotations

import pytest

from overcast.compute.states import TaskState, VmState, states_for_status, status


@pytest.mark.parametrize(
    ("vm_state", "task_state", "shown"),
    [
        (VmState.BUILDING, TaskState.SCHEDULING, "BUILD"),
        (VmState.ACTIVE, None, "ACTIVE"),
        (VmState.ACTIVE, TaskState.REBOOTING, "REBOOT"),
        (VmState.ACTIVE, TaskState.REBOOTING_HARD, "HARD_REBOOT"),
        (VmState.ACTIVE, TaskState.POWERING_OFF, "ACTIVE"),
        (VmState.ACTIVE, TaskState.RESIZE_PREP, "RESIZE"),
        (VmState.STOPPED, None, "SHUTOFF"),
        (VmState.STOPPED, TaskState.REBUILDING, "REBUILD"),
        (VmState.RESIZED, None, "VERIFY_RESIZE"),
        (VmState.RESIZED, TaskState.RESIZE_REVERTING, "REVERT_RESIZE"),
        (VmState.PAUSED, None, "PAUSED"),
        (VmState.SUSPENDED, None, "SUSPENDED"),
        (VmState.RESCUED, None, "RESCUE"),
        (VmState.ERROR, None, "ERROR"),
        (VmState.ERROR, TaskState.REBUILDING, "REBUILD"),
        (VmState.SHELVED_OFFLOADED, None, "SHELVED_OFFLOADED"),
        (VmState.SOFT_DELETED, None, "SOFT_DELETED"),
        ("nonsense", None, "UNKNOWN"),
    ],
)
def test_status(vm_state: str, task_state: str | None, shown: str) -> None:
    assert status(vm_state, task_state) == shown


def test_a_default_status_matches_its_vm_state_whatever_the_task() -> None:
    vm_states, task_states = states_for_status(["active"])
    assert vm_states == {VmState.ACTIVE}
    assert None in task_states


def test_a_task_status_matches_only_its_tasks() -> None:
    vm_states, task_states = states_for_status(["REBOOT"])
    assert vm_states == {VmState.ACTIVE}
    assert task_states == {TaskState.REBOOTING, TaskState.REBOOT_PENDING, TaskState.REBOOT_STARTED}


def test_unknown_statuses_match_nothing() -> None:
    assert states_for_status(["NOPE"]) == (set(), set())
