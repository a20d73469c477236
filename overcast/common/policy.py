"""Policy rules in OpenStack's check-string language, and the enforcer that evaluates them.

A service declares its default rules as data next to its handlers (a list of
:class:`Rule`); configuration may override any of them by name. Handlers ask
``context.can(rule_name, target)``.

The language is oslo.policy's::

    role:admin or (role:reader and system_scope:all)
    rule:admin_required or user_id:%(target.user.id)s
    not None:%(target.project.domain_id)s
    'member':%(target.role.name)s
    @  (always)    !  (never)    an empty string (always)

``kind:match`` compares a credential (``user_id``, ``token.domain.id`` ...) with
``match`` after ``%(...)s`` substitution from the target; a quoted or literal
``kind`` (``'member'``, ``None``, ``True``) is compared as a literal instead.
A target key that is missing makes the check false.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SCOPES = ("system", "domain", "project")


class PolicySyntaxError(ValueError):
    """A check string could not be parsed."""


class UnknownRule(KeyError):
    """A handler asked for a rule that was never declared."""


@dataclass(frozen=True)
class Rule:
    """A policy rule with its default check string."""

    name: str
    check: str
    scope_types: tuple[str, ...] = ()
    description: str = ""
    operations: tuple[str, ...] = field(default=())
    """``"GET /v3/users/{user_id}"`` strings, for documentation."""


class Check:
    def __call__(
        self, target: Mapping[str, Any], creds: Mapping[str, Any], enforcer: Enforcer
    ) -> bool:
        raise NotImplementedError


class _Constant(Check):
    def __init__(self, value: bool) -> None:
        self.value = value

    def __call__(
        self, target: Mapping[str, Any], creds: Mapping[str, Any], enforcer: Enforcer
    ) -> bool:
        return self.value


class _And(Check):
    def __init__(self, checks: list[Check]) -> None:
        self.checks = checks

    def __call__(
        self, target: Mapping[str, Any], creds: Mapping[str, Any], enforcer: Enforcer
    ) -> bool:
        return all(check(target, creds, enforcer) for check in self.checks)


class _Or(Check):
    def __init__(self, checks: list[Check]) -> None:
        self.checks = checks

    def __call__(
        self, target: Mapping[str, Any], creds: Mapping[str, Any], enforcer: Enforcer
    ) -> bool:
        return any(check(target, creds, enforcer) for check in self.checks)


class _Not(Check):
    def __init__(self, check: Check) -> None:
        self.check = check

    def __call__(
        self, target: Mapping[str, Any], creds: Mapping[str, Any], enforcer: Enforcer
    ) -> bool:
        return not self.check(target, creds, enforcer)


class _RuleRef(Check):
    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(
        self, target: Mapping[str, Any], creds: Mapping[str, Any], enforcer: Enforcer
    ) -> bool:
        return enforcer.check(self.name, target, creds)


class _Role(Check):
    def __init__(self, match: str) -> None:
        self.match = match

    def __call__(
        self, target: Mapping[str, Any], creds: Mapping[str, Any], enforcer: Enforcer
    ) -> bool:
        try:
            wanted = (self.match % target).lower()
        except KeyError:
            return False
        return wanted in (role.lower() for role in creds.get("roles", ()))


_NO_LITERAL = object()


class _Generic(Check):
    def __init__(self, kind: str, match: str) -> None:
        self.kind = kind
        self.match = match
        self.literal = _literal(kind)
        self.path = kind.split(".")

    def __call__(
        self, target: Mapping[str, Any], creds: Mapping[str, Any], enforcer: Enforcer
    ) -> bool:
        try:
            wanted = self.match % target
        except KeyError:
            return False
        if self.literal is not _NO_LITERAL:
            return wanted == str(self.literal)
        return _find(creds, self.path, wanted)


def _literal(kind: str) -> Any:
    try:
        return ast.literal_eval(kind)
    except (ValueError, SyntaxError):
        return _NO_LITERAL


def _find(value: Any, path: Sequence[str], wanted: str) -> bool:
    if not path:
        return wanted == str(value)
    if not isinstance(value, Mapping) or path[0] not in value:
        return False
    inner = value[path[0]]
    if isinstance(inner, list):
        return any(_find(item, path[1:], wanted) for item in inner)
    return _find(inner, path[1:], wanted)


def _tokens(text: str) -> list[str]:
    """Split on whitespace; parentheses at either end of a word are tokens of their own
    (those inside a word, as in ``%(user_id)s``, are not)."""
    tokens: list[str] = []
    for raw in text.split():
        opening = len(raw) - len(raw.lstrip("("))
        tokens.extend("(" * opening)
        word = raw[opening:]
        closing = len(word) - len(word.rstrip(")")) if not word.endswith(")s") else 0
        if closing:
            word = word[:-closing]
        if word:
            tokens.append(word)
        tokens.extend(")" * closing)
    return tokens


def parse(text: str) -> Check:
    """Parse a check string into a callable check tree.

    :raises PolicySyntaxError: when ``text`` is not a valid check string.
    """
    tokens = _tokens(text)
    if not tokens:
        return _Constant(True)
    parser = _Parser(tokens, text)
    check = parser.expression()
    if parser.pos != len(tokens):
        raise PolicySyntaxError(f"unexpected {tokens[parser.pos]!r} in {text!r}")
    return check


class _Parser:
    def __init__(self, tokens: list[str], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.pos = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise PolicySyntaxError(f"unexpected end of {self.text!r}")
        self.pos += 1
        return token

    def expression(self) -> Check:
        checks = [self._conjunction()]
        while self._peek() == "or":
            self.pos += 1
            checks.append(self._conjunction())
        return checks[0] if len(checks) == 1 else _Or(checks)

    def _conjunction(self) -> Check:
        checks = [self._negation()]
        while self._peek() == "and":
            self.pos += 1
            checks.append(self._negation())
        return checks[0] if len(checks) == 1 else _And(checks)

    def _negation(self) -> Check:
        if self._peek() == "not":
            self.pos += 1
            return _Not(self._negation())
        return self._atom()

    def _atom(self) -> Check:
        token = self._take()
        if token == "(":
            check = self.expression()
            if self._take() != ")":
                raise PolicySyntaxError(f"missing ')' in {self.text!r}")
            return check
        if token == "@":
            return _Constant(True)
        if token == "!":
            return _Constant(False)
        kind, sep, match = token.partition(":")
        if not sep or not kind:
            raise PolicySyntaxError(f"{token!r} is not a kind:match check in {self.text!r}")
        if kind == "rule":
            return _RuleRef(match)
        if kind == "role":
            return _Role(match)
        return _Generic(kind, match)


class _DottedTarget(Mapping[str, Any]):
    """``%(target.user.id)s`` lookups walk the nested target on demand (no flattening)."""

    __slots__ = ("_target",)

    def __init__(self, target: Mapping[str, Any]) -> None:
        self._target = target

    def __getitem__(self, key: str) -> Any:
        value: Any = self._target
        for part in key.split("."):
            if not isinstance(value, Mapping) or part not in value:
                raise KeyError(key)
            value = value[part]
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(flatten(self._target))

    def __len__(self) -> int:
        return len(flatten(self._target))


def flatten(target: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"target": {"user": {"id": 1}}}`` to ``{"target.user.id": 1, ...}`` (inner dicts kept)."""
    flat: dict[str, Any] = {}
    for key, value in target.items():
        name = f"{prefix}{key}"
        flat[name] = value
        if isinstance(value, Mapping):
            flat.update(flatten(value, name + "."))
    return flat


class Enforcer:
    """Evaluates named rules: the service's defaults, with overrides from configuration.

    :raises PolicySyntaxError: when a default or an override does not parse.
    """

    def __init__(
        self, defaults: Iterable[Rule], overrides: Mapping[str, str] | None = None
    ) -> None:
        self.rules: dict[str, Rule] = {rule.name: rule for rule in defaults}
        self._checks: dict[str, Check] = {}
        for name, rule in self.rules.items():
            self._checks[name] = parse(rule.check)
        for name, text in (overrides or {}).items():
            self._checks[name] = parse(text)

    def check(self, name: str, target: Mapping[str, Any], creds: Mapping[str, Any]) -> bool:
        """Evaluate rule ``name`` (no scope check); an undeclared referenced rule is false."""
        check = self._checks.get(name)
        return bool(check and check(target, creds, self))

    def enforce(self, name: str, target: Mapping[str, Any], creds: Mapping[str, Any]) -> bool:
        """Whether ``creds`` may do ``name`` to ``target``, scope types included.

        :raises UnknownRule: when ``name`` was never declared (a programming error).
        """
        if name not in self._checks:
            raise UnknownRule(name)
        rule = self.rules.get(name)
        if rule and rule.scope_types and _token_scope(creds) not in rule.scope_types:
            return False
        return self.check(name, _DottedTarget(target), creds)


def _token_scope(creds: Mapping[str, Any]) -> str:
    if creds.get("system_scope"):
        return "system"
    if creds.get("domain_id"):
        return "domain"
    return "project"
