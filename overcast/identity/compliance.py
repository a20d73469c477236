"""Setting passwords under Keystone's security-compliance rules.

The rules (all off unless configured): a regular expression passwords must
match; a minimum age before users may change their own password again; the
last N passwords may not be reused by the user; passwords expire after a number
of days; a password set by an administrator must be changed on first use.
History and minimum age bind users changing their own password, not
administrators resetting it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from overcast.common.api.errors import BadRequest
from overcast.identity import models
from overcast.identity.service import IdentityService
from overcast.identity.tokens.provider import revocation


@dataclass(frozen=True)
class NewPassword:
    """A password that passed the rules, already hashed."""

    hash: str
    self_service: bool


async def prepare(
    service: IdentityService, password: str, *, user_id: str | None, self_service: bool
) -> NewPassword:
    """Check ``password`` against the rules and hash it.

    This is the slow part (bcrypt), so it runs *before* the write transaction:
    a write transaction on SQLite holds the database's only write lock.

    :raises BadRequest: when the password breaks a rule.
    """
    check_strength(service, password)
    if self_service and user_id is not None:
        async with service.db.read() as session:
            history = await _history(session, user_id)
        if history:
            _check_minimum_age(service, history[0], service.clock.now())
            await _check_history(service, history, password)
    return NewPassword(await service.hasher.hash(password), self_service)


async def store(
    service: IdentityService,
    session: AsyncSession,
    user: models.User,
    new: NewPassword,
    *,
    revoke: bool = True,
) -> None:
    """Make ``new`` the user's password (inside a write transaction); revoke their tokens."""
    now = service.clock.now()
    history = await _history(session, user.id)
    session.add(
        models.Password(
            user_id=user.id,
            hash=new.hash,
            created_at=now,
            expires_at=_expiry(service, user, now, self_service=new.self_service),
            self_service=new.self_service,
        )
    )
    keep = max(service.conf.security_compliance.unique_last_password_count, 1)
    stale = [p.id for p in history[keep - 1 :]]
    if stale:
        await session.execute(delete(models.Password).where(models.Password.id.in_(stale)))
    if revoke:
        session.add(revocation(now, user_id=user.id))


async def _history(session: AsyncSession, user_id: str) -> list[models.Password]:
    return list(
        await session.scalars(
            select(models.Password)
            .where(models.Password.user_id == user_id)
            .order_by(models.Password.id.desc())
        )
    )


def check_strength(service: IdentityService, password: str) -> None:
    rules = service.conf.security_compliance
    if len(password) > service.conf.max_password_length:
        raise BadRequest(
            f"Invalid input for field/attribute password. The password is longer than "
            f"{service.conf.max_password_length} characters."
        )
    if rules.password_regex and not re.match(rules.password_regex, password):
        reason = rules.password_regex_description or "it does not match the required pattern"
        raise BadRequest(f"Password validation error: {reason}.")


def _check_minimum_age(service: IdentityService, current: models.Password, now: datetime) -> None:
    days = service.conf.security_compliance.minimum_password_age
    if days and current.created_at + timedelta(days=days) > now:
        raise BadRequest(
            "You cannot change your password at this time due to the minimum password age. "
            f"Once you change your password, it must be used for {days} day(s) before it can "
            "be changed. Please try again in the future or contact your administrator to "
            "reset your password."
        )


async def _check_history(
    service: IdentityService, history: list[models.Password], password: str
) -> None:
    count = service.conf.security_compliance.unique_last_password_count
    if count <= 1:
        return
    for old in history[:count]:
        if await service.hasher.verify(password, old.hash):
            raise BadRequest(
                "The new password cannot be identical to a previous password. The total number "
                f"which includes the new password must be unique is {count}."
            )


def _expiry(
    service: IdentityService, user: models.User, now: datetime, *, self_service: bool
) -> datetime | None:
    rules = service.conf.security_compliance
    options = user.options
    if (
        rules.change_password_upon_first_use
        and not self_service
        and not options.get("ignore_change_password_upon_first_use")
    ):
        return now
    if rules.password_expires_days and not options.get("ignore_password_expiry"):
        return now + timedelta(days=rules.password_expires_days)
    return None
