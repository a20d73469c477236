from __future__ import annotations

from typing import Any

import pytest

from overcast.common.policy import Enforcer, PolicySyntaxError, Rule, UnknownRule, flatten, parse

CREDS: dict[str, Any] = {
    "user_id": "u1",
    "project_id": "p1",
    "domain_id": None,
    "system_scope": None,
    "roles": ["member", "reader"],
    "token": {"project": {"domain": {"id": "d1"}}},
}


def check(
    text: str, target: dict[str, Any] | None = None, creds: dict[str, Any] | None = None
) -> bool:
    return Enforcer([Rule("r", text)]).enforce("r", target or {}, creds or CREDS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("@", True),
        ("!", False),
        ("role:member", True),
        ("role:MEMBER", True),
        ("role:admin", False),
        ("role:admin or role:reader", True),
        ("role:admin and role:reader", False),
        ("not role:admin", True),
        ("role:admin or role:member and role:reader", True),
        ("(role:admin or role:member) and not role:reader", False),
        ("user_id:%(target.user.id)s", True),
        ("project_id:%(target.project.id)s", False),
        ("token.project.domain.id:%(target.domain.id)s", True),
        ("'member':%(target.role.name)s", True),
        ("None:%(target.missing_value)s", True),
        ("domain_id:%(target.not_there)s", False),
    ],
)
def test_check_strings(text: str, expected: bool) -> None:
    target = {
        "target": {
            "user": {"id": "u1"},
            "project": {"id": "p2"},
            "domain": {"id": "d1"},
            "role": {"name": "member"},
            "missing_value": None,
        }
    }
    assert check(text, target) is expected


def test_percent_parenthesis_is_not_grouping() -> None:
    assert check("(user_id:%(user_id)s)", {"user_id": "u1"})


def test_rule_references_and_overrides() -> None:
    rules = [
        Rule("admin_required", "role:admin"),
        Rule("thing", "rule:admin_required or role:reader"),
    ]
    assert Enforcer(rules).enforce("thing", {}, CREDS)
    assert not Enforcer(rules, {"thing": "rule:admin_required"}).enforce("thing", {}, CREDS)
    assert not Enforcer(rules).check("rule:not_declared", {}, CREDS)


def test_scope_types() -> None:
    enforcer = Enforcer([Rule("sys", "@", ("system",)), Rule("proj", "@", ("project",))])
    assert not enforcer.enforce("sys", {}, CREDS)
    assert enforcer.enforce("proj", {}, CREDS)
    assert enforcer.enforce("sys", {}, {**CREDS, "system_scope": "all"})


def test_unknown_rule_and_bad_syntax() -> None:
    with pytest.raises(UnknownRule):
        Enforcer([]).enforce("nope", {}, CREDS)
    for text in ("role:a and", "(role:a", "role:a)", "justaword"):
        with pytest.raises(PolicySyntaxError):
            parse(text)


def test_flatten() -> None:
    assert flatten({"target": {"user": {"id": 1}}}) == {
        "target": {"user": {"id": 1}},
        "target.user": {"id": 1},
        "target.user.id": 1,
    }
