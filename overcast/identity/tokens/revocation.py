"""Revocation events, and the in-memory index that checks a token against them.

An event revokes every token whose attributes match all of the event's non-null
fields and that was issued no later than ``issued_before``. Deleting a token
records its audit id; disabling or deleting a user records the user; changing a
password records the user; disabling or deleting a project or domain records it;
taking a role away records the user and the project (or domain).

The index answers from memory: a token is compared only with the events filed
under one of its own attributes, never with every event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime


@dataclass(frozen=True)
class Revocation:
    issued_before: datetime
    user_id: str | None = None
    project_id: str | None = None
    domain_id: str | None = None
    role_id: str | None = None
    trust_id: str | None = None
    consumer_id: str | None = None
    audit_id: str | None = None
    audit_chain_id: str | None = None


@dataclass(frozen=True)
class TokenFacts:
    """What a token is matched on: its own fields plus what they resolve to."""

    issued_at: datetime
    user_id: str
    audit_id: str
    audit_chain_id: str
    user_domain_id: str | None = None
    project_id: str | None = None
    project_domain_id: str | None = None
    domain_id: str | None = None
    trust_id: str | None = None
    trustor_id: str | None = None
    trustee_id: str | None = None
    role_ids: tuple[str, ...] = ()


_FIELDS = tuple(f.name for f in fields(Revocation) if f.name != "issued_before")


class RevocationList:
    def __init__(self, events: Iterable[Revocation] = ()) -> None:
        self._by_field: dict[str, dict[str, list[Revocation]]] = {
            name: defaultdict(list) for name in _FIELDS
        }
        self.count = 0
        for event in events:
            self.add(event)

    def add(self, event: Revocation) -> None:
        for name in _FIELDS:
            value = getattr(event, name)
            if value is not None:
                self._by_field[name][value].append(event)
                break
        self.count += 1

    def is_revoked(self, token: TokenFacts) -> bool:
        return any(_matches(event, token) for event in self._candidates(token))

    def _candidates(self, token: TokenFacts) -> Iterable[Revocation]:
        wanted: dict[str, tuple[str | None, ...]] = {
            "user_id": (token.user_id, token.trustor_id, token.trustee_id),
            "project_id": (token.project_id,),
            "domain_id": (token.domain_id, token.user_domain_id, token.project_domain_id),
            "role_id": token.role_ids,
            "trust_id": (token.trust_id,),
            "audit_id": (token.audit_id,),
            "audit_chain_id": (token.audit_chain_id,),
        }
        for name, values in wanted.items():
            index = self._by_field[name]
            for value in set(values):
                if value is not None:
                    yield from index.get(value, ())


def _matches(event: Revocation, token: TokenFacts) -> bool:
    if token.issued_at > event.issued_before:
        return False
    if event.user_id is not None and event.user_id not in (
        token.user_id,
        token.trustor_id,
        token.trustee_id,
    ):
        return False
    if event.project_id is not None and event.project_id != token.project_id:
        return False
    if event.domain_id is not None and event.domain_id not in (
        token.domain_id,
        token.user_domain_id,
        token.project_domain_id,
    ):
        return False
    if event.role_id is not None and event.role_id not in token.role_ids:
        return False
    if event.trust_id is not None and event.trust_id != token.trust_id:
        return False
    if event.audit_id is not None and event.audit_id != token.audit_id:
        return False
    return event.audit_chain_id is None or event.audit_chain_id == token.audit_chain_id
