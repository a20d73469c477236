from __future__ import annotations

from pathlib import Path

import pytest

from overcast.common.config import ConfigError, Settings


def test_defaults() -> None:
    settings = Settings.load()
    assert settings.identity.port == 5000
    assert settings.data_dir == Path("data")
    assert settings.identity.password_hash_algorithm == "bcrypt"


def test_environment_wins_over_file_which_wins_over_defaults(tmp_path: Path) -> None:
    config = tmp_path / "overcast.toml"
    config.write_text('data_dir = "/srv/a"\n[identity]\nport = 5001\ntoken_expiration = 600\n')
    env = {"OVERCAST_IDENTITY__PORT": "5002", "UNRELATED": "x"}
    settings = Settings.load(config, env)
    assert settings.identity.port == 5002
    assert settings.identity.token_expiration == 600
    assert settings.data_dir == Path("/srv/a")


def test_nested_sections_and_json_values_from_environment() -> None:
    env = {
        "OVERCAST_IDENTITY__SECURITY_COMPLIANCE__LOCKOUT_FAILURE_ATTEMPTS": "3",
        "OVERCAST_IDENTITY__POLICY": '{"identity:list_users": "role:reader"}',
    }
    settings = Settings.load(None, env)
    assert settings.identity.security_compliance.lockout_failure_attempts == 3
    assert settings.identity.policy == {"identity:list_users": "role:reader"}


def test_config_file_from_environment(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[server]\nworkers = 3\n")
    assert Settings.load(None, {"OVERCAST_CONFIG": str(config)}).server.workers == 3


@pytest.mark.parametrize(
    "env",
    [
        {"OVERCAST_IDENTITY__PORT": "not-a-port"},
        {"OVERCAST_IDENTITY__PORT": "70000"},
        {"OVERCAST_IDENTITY__NO_SUCH_OPTION": "1"},
        {"OVERCAST_IDENTITY__POLICY": "{not json"},
    ],
)
def test_bad_values_are_config_errors(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Settings.load(None, env)


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        Settings.load(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[identity\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Settings.load(broken)


def test_advertised_host() -> None:
    assert Settings.load(server={"host": "0.0.0.0"}).server.advertised_host == "127.0.0.1"
    assert Settings.load(server={"public_host": "cloud.example"}).service_url(5000, "/v3") == (
        "http://cloud.example:5000/v3"
    )


@pytest.mark.parametrize(
    ("policies", "reason"),
    [
        ('[{"index": 1, "name": "x", "default": true}]', "policy 0 must exist"),
        ('[{"index": 0, "name": "a", "default": true}, {"index": 0, "name": "b"}]', "unique"),
        ('[{"index": 0, "name": "a"}, {"index": 1, "name": "A", "default": true}]', "unique"),
        ('[{"index": 0, "name": "a"}, {"index": 1, "name": "b"}]', "exactly one"),
    ],
)
def test_storage_policies_are_checked(policies: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        Settings.load(environ={"OVERCAST_OBJECT__POLICIES": policies})
    default = Settings.load().object.policies
    assert [(p.index, p.name, p.default) for p in default] == [
        (0, "gold", True),
        (1, "silver", False),
    ]
