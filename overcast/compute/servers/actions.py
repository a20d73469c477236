"""Server actions: which states allow each one, what it sets while it runs, and its body.

Nova checks an action against the instance's ``vm_state`` and ``task_state``
before doing anything and answers 409 ``Cannot 'stop' instance U while it is
in vm_state stopped``; the tables here are those checks. An accepted action
records an instance action and sets its task state in the same transaction,
so two racing requests cannot both pass the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.api.errors import Conflict
from overcast.common.auth.context import RequestContext
from overcast.compute import instances
from overcast.compute import validation as v
from overcast.compute.models import Instance
from overcast.compute.servers.lookup import visible_server
from overcast.compute.states import TaskState, VmState

REBOOT_TASKS = (
    None,
    TaskState.REBOOTING,
    TaskState.REBOOT_PENDING,
    TaskState.REBOOT_STARTED,
    TaskState.REBOOTING_HARD,
    TaskState.REBOOT_PENDING_HARD,
    TaskState.REBOOT_STARTED_HARD,
    TaskState.RESUMING,
    TaskState.UNPAUSING,
    TaskState.PAUSING,
    TaskState.SUSPENDING,
)


@dataclass(frozen=True)
class Transition:
    """One action's rule: from which states, and the task state it sets while it runs."""

    action: str
    """The instance action recorded (Nova's name: ``stop``, ``createImage`` ...)."""
    vm_states: tuple[str, ...] | None
    """The vm_states it may start from (None: any)."""
    task_state: str | None = None
    task_states: tuple[str | None, ...] = (None,)
    """The task states it may start from (by default: none running)."""
    event: str = ""
    """The compute event its agent reports (``compute_stop_instance`` ...)."""


A, S, P, U = VmState.ACTIVE, VmState.STOPPED, VmState.PAUSED, VmState.SUSPENDED
R = VmState.RESCUED
SHELVED = (VmState.SHELVED, VmState.SHELVED_OFFLOADED)
T = TaskState
TRANSITIONS: dict[str, Transition] = {
    "stop": Transition("stop", (A, VmState.ERROR), T.POWERING_OFF, event="compute_stop_instance"),
    "start": Transition("start", (S,), T.POWERING_ON, event="compute_start_instance"),
    "reboot": Transition("reboot", (A,), T.REBOOTING, event="compute_reboot_instance"),
    "reboot_hard": Transition(
        "reboot",
        (A, S, P, U, VmState.ERROR),
        T.REBOOTING_HARD,
        REBOOT_TASKS,
        event="compute_reboot_instance",
    ),
    "pause": Transition("pause", (A,), T.PAUSING, event="compute_pause_instance"),
    "unpause": Transition("unpause", (P,), T.UNPAUSING, event="compute_unpause_instance"),
    "suspend": Transition("suspend", (A,), T.SUSPENDING, event="compute_suspend_instance"),
    "resume": Transition("resume", (U,), T.RESUMING, event="compute_resume_instance"),
    "rescue": Transition(
        "rescue", (A, S, VmState.ERROR), T.RESCUING, event="compute_rescue_instance"
    ),
    "unrescue": Transition("unrescue", (R,), T.UNRESCUING, event="compute_unrescue_instance"),
    "shelve": Transition("shelve", (A, S, P, U), T.SHELVING, event="compute_shelve_instance"),
    "shelveOffload": Transition(
        "shelveOffload",
        (VmState.SHELVED,),
        T.SHELVING_OFFLOADING,
        event="compute_shelve_offload_instance",
    ),
    "unshelve": Transition("unshelve", SHELVED, T.UNSHELVING, event="compute_unshelve_instance"),
    "rebuild": Transition(
        "rebuild", (A, S, VmState.ERROR), T.REBUILDING, event="compute_rebuild_instance"
    ),
    "resize": Transition("resize", (A, S), T.RESIZE_PREP, event="compute_prep_resize"),
    "migrate": Transition("migrate", (A, S), T.RESIZE_PREP, event="compute_prep_resize"),
    "confirmResize": Transition(
        "confirmResize", (VmState.RESIZED,), event="compute_confirm_resize"
    ),
    "revertResize": Transition(
        "revertResize", (VmState.RESIZED,), T.RESIZE_REVERTING, event="compute_revert_resize"
    ),
    "createImage": Transition(
        "createImage", (A, S, P, U), T.IMAGE_SNAPSHOT, event="compute_snapshot_instance"
    ),
    "createBackup": Transition(
        "createBackup", (A, S, P, U), T.IMAGE_BACKUP, event="compute_backup_instance"
    ),
    "restore": Transition(
        "restore", (VmState.SOFT_DELETED,), T.RESTORING, event="compute_restore_instance"
    ),
}


def check_state(instance: Instance, name: str, rule: Transition) -> None:
    """:raises Conflict: when ``instance`` is in a state ``rule`` does not start from."""
    if rule.vm_states is not None and instance.vm_state not in rule.vm_states:
        raise Conflict(
            f"Cannot '{name}' instance {instance.uuid} while it is in vm_state {instance.vm_state}"
        )
    if instance.task_state not in rule.task_states:
        raise Conflict(
            f"Cannot '{name}' instance {instance.uuid} while it is in task_state "
            f"{instance.task_state}"
        )


def check_locked(ctx: RequestContext, instance: Instance) -> None:
    """:raises Conflict: when the server is locked and the caller may not override the lock."""
    if instance.locked and not ctx.can("context_is_admin"):
        raise Conflict(f"Instance {instance.uuid} is locked")


async def begin(
    session: AsyncSession,
    ctx: RequestContext,
    server_id: str,
    policy: str,
    name: str,
    rule: Transition,
    now: datetime,
) -> Instance:
    """Find the server, check policy, lock and state, then record the action and its task state.

    ``name`` is the action as the caller named it, for the 409 message.
    """
    instance = await visible_server(session, ctx, server_id, policy)
    check_locked(ctx, instance)
    check_state(instance, name, rule)
    auth = ctx.require_auth()
    instances.start_action(
        session,
        instance,
        rule.action,
        ctx.request_id,
        now,
        user_id=auth.user_id,
        project_id=auth.project_id,
    )
    instance.task_state = rule.task_state
    instance.updated_at = now
    return instance


# --- bodies -------------------------------------------------------------------------------

NOTHING: dict[str, Any] = {}
"""Actions without arguments: Nova takes any value (``null``, ``{}`` ...) and ignores it."""
REBOOT = v.object_of(
    {"type": {"type": "string", "pattern": "^([Hh][Aa][Rr][Dd]|[Ss][Oo][Ff][Tt])$"}},
    required=("type",),
)
RESIZE = v.object_of(
    {
        "flavorRef": {"type": ["string", "integer"], "minLength": 1},
        "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
    },
    required=("flavorRef",),
)
MIGRATE = {"oneOf": [{"type": "null"}, v.object_of({"host": {"type": ["string", "null"]}})]}
REBUILD = v.object_of(
    {
        "imageRef": {"type": "string"},
        "name": v.name(),
        "adminPass": {"type": "string"},
        "metadata": v.METADATA,
        "preserve_ephemeral": {"type": "boolean"},
        "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
        "accessIPv4": {"type": ["string", "null"], "format": "ipv4"},
        "accessIPv6": {"type": ["string", "null"], "format": "ipv6"},
        "personality": {"type": "array"},
        "description": {"type": ["string", "null"], "maxLength": 255},
        "key_name": {"type": ["string", "null"]},
        "user_data": {"type": ["string", "null"], "format": "base64", "maxLength": 65535},
        "trusted_image_certificates": {"type": ["array", "null"]},
    },
    required=("imageRef",),
)
CREATE_IMAGE = v.object_of({"name": v.name(), "metadata": v.METADATA}, required=("name",))
CREATE_BACKUP = v.object_of(
    {
        "name": v.name(),
        "backup_type": {"type": "string"},
        "rotation": v.integer(0),
        "metadata": v.METADATA,
    },
    required=("name", "backup_type", "rotation"),
)
RESCUE = {
    "oneOf": [
        {"type": "null"},
        v.object_of({"adminPass": {"type": "string"}, "rescue_image_ref": {"type": "string"}}),
    ]
}
CONSOLE = {
    "oneOf": [
        {"type": "null"},
        v.object_of(
            {
                "length": {
                    "oneOf": [
                        {"type": "integer", "minimum": -1},
                        {"type": "string", "pattern": "^-?[0-9]+$"},
                        {"type": "null"},
                    ]
                }
            }
        ),
    ]
}
LOCK = {
    "oneOf": [
        {"type": "null"},
        v.object_of({"locked_reason": {"type": "string", "minLength": 1, "maxLength": 255}}),
    ]
}
"""From 2.73; before, the lock body is ignored."""
UNSHELVE = {
    "oneOf": [
        {"type": "null"},
        v.object_of(
            {"availability_zone": {"type": ["string", "null"]}, "host": {"type": "string"}}
        ),
    ]
}
RESET_STATE = v.object_of(
    {"state": {"type": "string", "enum": ["active", "error"]}}, required=("state",)
)
