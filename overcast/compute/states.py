"""An instance's state, in Nova's three words, and the ``status`` the API derives from them.

``vm_state`` is where the instance rests (active, stopped ...), ``task_state``
what is being done to it now (None when nothing), ``power_state`` what its
hypervisor last said. The API shows one ``status`` computed from the first two.
"""

from __future__ import annotations

from collections.abc import Iterable


class VmState:
    ACTIVE = "active"
    BUILDING = "building"
    PAUSED = "paused"
    SUSPENDED = "suspended"
    STOPPED = "stopped"
    RESCUED = "rescued"
    RESIZED = "resized"
    SOFT_DELETED = "soft-delete"
    DELETED = "deleted"
    ERROR = "error"
    SHELVED = "shelved"
    SHELVED_OFFLOADED = "shelved_offloaded"


class TaskState:
    SCHEDULING = "scheduling"
    BLOCK_DEVICE_MAPPING = "block_device_mapping"
    NETWORKING = "networking"
    SPAWNING = "spawning"
    IMAGE_SNAPSHOT = "image_snapshot"
    IMAGE_SNAPSHOT_PENDING = "image_snapshot_pending"
    IMAGE_PENDING_UPLOAD = "image_pending_upload"
    IMAGE_UPLOADING = "image_uploading"
    IMAGE_BACKUP = "image_backup"
    UPDATING_PASSWORD = "updating_password"
    RESIZE_PREP = "resize_prep"
    RESIZE_MIGRATING = "resize_migrating"
    RESIZE_MIGRATED = "resize_migrated"
    RESIZE_FINISH = "resize_finish"
    RESIZE_REVERTING = "resize_reverting"
    RESIZE_CONFIRMING = "resize_confirming"
    REBOOTING = "rebooting"
    REBOOT_PENDING = "reboot_pending"
    REBOOT_STARTED = "reboot_started"
    REBOOTING_HARD = "rebooting_hard"
    REBOOT_PENDING_HARD = "reboot_pending_hard"
    REBOOT_STARTED_HARD = "reboot_started_hard"
    PAUSING = "pausing"
    UNPAUSING = "unpausing"
    SUSPENDING = "suspending"
    RESUMING = "resuming"
    POWERING_OFF = "powering-off"
    POWERING_ON = "powering-on"
    RESCUING = "rescuing"
    UNRESCUING = "unrescuing"
    REBUILDING = "rebuilding"
    REBUILD_BLOCK_DEVICE_MAPPING = "rebuild_block_device_mapping"
    REBUILD_SPAWNING = "rebuild_spawning"
    MIGRATING = "migrating"
    DELETING = "deleting"
    SOFT_DELETING = "soft-deleting"
    RESTORING = "restoring"
    SHELVING = "shelving"
    SHELVING_IMAGE_PENDING_UPLOAD = "shelving_image_pending_upload"
    SHELVING_IMAGE_UPLOADING = "shelving_image_uploading"
    SHELVING_OFFLOADING = "shelving_offloading"
    UNSHELVING = "unshelving"


class PowerState:
    NOSTATE = 0
    RUNNING = 1
    PAUSED = 3
    SHUTDOWN = 4
    CRASHED = 6
    SUSPENDED = 7


_RESIZING: dict[str | None, str] = {
    TaskState.RESIZE_PREP: "RESIZE",
    TaskState.RESIZE_MIGRATING: "RESIZE",
    TaskState.RESIZE_MIGRATED: "RESIZE",
    TaskState.RESIZE_FINISH: "RESIZE",
}
_REBUILDING: dict[str | None, str] = {
    TaskState.REBUILDING: "REBUILD",
    TaskState.REBUILD_BLOCK_DEVICE_MAPPING: "REBUILD",
    TaskState.REBUILD_SPAWNING: "REBUILD",
}
STATUS_MAP: dict[str, dict[str | None, str]] = {
    VmState.ACTIVE: {
        None: "ACTIVE",
        TaskState.REBOOTING: "REBOOT",
        TaskState.REBOOT_PENDING: "REBOOT",
        TaskState.REBOOT_STARTED: "REBOOT",
        TaskState.REBOOTING_HARD: "HARD_REBOOT",
        TaskState.REBOOT_PENDING_HARD: "HARD_REBOOT",
        TaskState.REBOOT_STARTED_HARD: "HARD_REBOOT",
        TaskState.UPDATING_PASSWORD: "PASSWORD",
        TaskState.MIGRATING: "MIGRATING",
        **_REBUILDING,
        **_RESIZING,
    },
    VmState.BUILDING: {None: "BUILD"},
    VmState.STOPPED: {None: "SHUTOFF", **_RESIZING, **_REBUILDING},
    VmState.RESIZED: {None: "VERIFY_RESIZE", TaskState.RESIZE_REVERTING: "REVERT_RESIZE"},
    VmState.PAUSED: {None: "PAUSED", TaskState.MIGRATING: "MIGRATING"},
    VmState.SUSPENDED: {None: "SUSPENDED"},
    VmState.RESCUED: {None: "RESCUE"},
    VmState.ERROR: {None: "ERROR", **_REBUILDING},
    VmState.DELETED: {None: "DELETED"},
    VmState.SOFT_DELETED: {None: "SOFT_DELETED"},
    VmState.SHELVED: {None: "SHELVED"},
    VmState.SHELVED_OFFLOADED: {None: "SHELVED_OFFLOADED"},
}
"""vm_state -> task_state -> status; the ``None`` entry is the default for any other task."""


def status(vm_state: str, task_state: str | None) -> str:
    """The API ``status`` of an instance (``UNKNOWN`` for a vm_state Nova does not know)."""
    by_task = STATUS_MAP.get(vm_state)
    if by_task is None:
        return "UNKNOWN"
    return by_task.get(task_state, by_task[None])


def states_for_status(statuses: Iterable[str]) -> tuple[set[str], set[str | None]]:
    """The vm_states, and the task_states, whose combination can show one of ``statuses``.

    Like Nova, a status that is a default (``ACTIVE``) matches every task state of
    its vm_state that has no status of its own, so the caller filters on vm_state
    and then on the status itself.
    """
    wanted = {s.upper() for s in statuses}
    vm_states: set[str] = set()
    task_states: set[str | None] = set()
    for vm_state, by_task in STATUS_MAP.items():
        for task_state, shown in by_task.items():
            if shown in wanted:
                vm_states.add(vm_state)
                task_states.add(task_state)
    return vm_states, task_states


POWER_STATE_NAMES = {
    PowerState.NOSTATE: "NOSTATE",
    PowerState.RUNNING: "RUNNING",
    PowerState.PAUSED: "PAUSED",
    PowerState.SHUTDOWN: "SHUTDOWN",
    PowerState.CRASHED: "CRASHED",
    PowerState.SUSPENDED: "SUSPENDED",
}

FAULT_STATES = (VmState.ERROR, VmState.DELETED)
"""The vm_states in which a server shows its latest fault."""
