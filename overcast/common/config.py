"""Typed settings, loaded from a TOML file plus ``OVERCAST_*`` environment variables.

There is no global settings object: the command line loads one :class:`Settings`
and passes it into every service constructor.

Environment variables name a field by its path, sections joined by ``__``::

    OVERCAST_DATA_DIR=/srv/overcast
    OVERCAST_IDENTITY__PORT=5001
    OVERCAST_IDENTITY__SECURITY_COMPLIANCE__LOCKOUT_FAILURE_ATTEMPTS=3

A value that starts with ``{`` or ``[`` is read as JSON (for mappings and lists).
The environment wins over the file, and the file over the defaults. Every
``OVERCAST_*`` variable must name a setting (a typo is an error, not ignored), so
tools around Overcast use variables of their own (``TEMPEST_HOME`` ...).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ENV_PREFIX = "OVERCAST_"
ENV_SECTION_SEPARATOR = "__"
CONFIG_ENV = "OVERCAST_CONFIG"


class ConfigError(Exception):
    """The configuration file or environment holds a value that is not valid."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    """Address the API servers bind to."""
    public_host: str | None = None
    """Host name put into catalog URLs and links; defaults to ``host``."""
    workers: int = Field(default=1, ge=1, le=64)
    """Number of worker processes serving the APIs."""
    access_log: bool = False

    @property
    def advertised_host(self) -> str:
        if self.public_host:
            return self.public_host
        return "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host


class DatabaseSettings(_Section):
    url: str = ""
    """SQLAlchemy URL shared by every service. Empty: one SQLite file per service
    under the data directory. PostgreSQL: ``postgresql+asyncpg://user@host/db``."""
    schema_name: str | None = Field(default=None, alias="schema")
    """PostgreSQL schema to use instead of ``public`` (created when missing)."""
    pool_size: int = Field(default=5, ge=1)
    sqlite_busy_timeout_ms: int = Field(default=60_000, ge=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SecurityComplianceSettings(_Section):
    """Keystone's ``[security_compliance]`` options; zero turns a rule off."""

    lockout_failure_attempts: int = Field(default=0, ge=0)
    lockout_duration: int = Field(default=1800, ge=0)
    """Seconds a locked-out user stays locked."""
    unique_last_password_count: int = Field(default=0, ge=0)
    minimum_password_age: int = Field(default=0, ge=0)
    """Days before a user may change their own password again."""
    password_expires_days: int = Field(default=0, ge=0)
    change_password_upon_first_use: bool = False
    password_regex: str | None = None
    password_regex_description: str | None = None


class IdentitySettings(_Section):
    port: int = Field(default=5000, ge=0, le=65535)
    token_expiration: int = Field(default=3600, ge=60)
    """Seconds a token is valid for."""
    allow_expired_window: int = Field(default=172_800, ge=0)
    password_hash_algorithm: Literal["bcrypt", "argon2"] = "bcrypt"
    password_hash_rounds: int = Field(default=12, ge=4, le=20)
    """bcrypt cost (log2 rounds), or argon2 time cost."""
    max_password_length: int = Field(default=4096, ge=8)
    max_active_keys: int = Field(default=3, ge=2)
    list_limit: int | None = Field(default=None, ge=1)
    security_compliance: SecurityComplianceSettings = SecurityComplianceSettings()
    policy: dict[str, str] = {}
    """Policy rule overrides: rule name to check string."""
    cache_size: int = Field(default=20_000, ge=0)
    """Validated tokens kept per worker process (and twice as many other cached lookups)."""
    key_repository: Path | None = None
    """Token keys; default DATA_DIR/fernet-keys. Every host serving identity needs the same keys."""
    credential_key_repository: Path | None = None
    """Keys encrypting stored credentials; default DATA_DIR/credential-keys."""


GIB = 1 << 30


class ImageQuota(_Section):
    """Glance's unified-limit names; -1 means unlimited."""

    image_size_total: int = Field(default=-1, ge=-1)
    """MiB of image data a project may keep."""
    image_count_total: int = Field(default=-1, ge=-1)
    """Images a project may have (in any state)."""


class ImageSettings(_Section):
    port: int = Field(default=9292, ge=0, le=65535)
    store_dir: Path | None = None
    """Where the ``file`` store keeps image data; default DATA_DIR/images."""
    default_store: str = "file"
    disk_formats: tuple[str, ...] = (
        "ami",
        "ari",
        "aki",
        "vhd",
        "vhdx",
        "vmdk",
        "raw",
        "qcow2",
        "vdi",
        "iso",
        "ploop",
    )
    container_formats: tuple[str, ...] = (
        "ami",
        "ari",
        "aki",
        "bare",
        "ovf",
        "ova",
        "docker",
        "compressed",
    )
    require_format_match: bool = True
    """Reject uploads whose data is not in the image's ``disk_format`` (and unsafe qcow2/vmdk)."""
    image_size_cap: int = Field(default=1024 * GIB, ge=1)
    """Largest image, in bytes."""
    quota: ImageQuota = ImageQuota()
    """Default limits of every project."""
    project_quotas: dict[str, ImageQuota] = {}
    """Limits of particular projects (by project id), replacing the defaults."""
    member_quota: int = Field(default=128, ge=-1)
    property_quota: int = Field(default=128, ge=-1)
    tag_quota: int = Field(default=128, ge=-1)
    limit_param_default: int = Field(default=25, ge=1)
    api_limit_max: int = Field(default=1000, ge=1)
    chunk_size: int = Field(default=4 << 20, ge=64 << 10, le=64 << 20)
    """Bytes hashed and written at a time while streaming image data."""
    task_time_to_live: int = Field(default=48, ge=1)
    """Hours a finished task stays visible."""
    import_allowed_schemes: tuple[str, ...] = ("http", "https")
    import_allowed_ports: tuple[int, ...] = (80, 443)
    """Ports an import task may download from (empty: any)."""
    policy: dict[str, str] = {}
    """Policy rule overrides: rule name to check string."""


class BusSettings(_Section):
    driver: Literal["local", "amqp"] = "local"
    """``local``: in-process (one process only); ``amqp``: RabbitMQ at ``url``."""
    url: str = "amqp://guest:guest@127.0.0.1:5672/"
    call_timeout: float = Field(default=60, gt=0)
    """Seconds a call waits for its reply."""
    connect_timeout: float = Field(default=30, gt=0)
    """Seconds to keep trying to reach the broker at start."""
    prefetch: int = Field(default=64, ge=1)
    """Messages a server handles at once."""
    namespace: str = Field(default="overcast", pattern=r"^[A-Za-z0-9_.-]+$")
    """Prefix of every exchange and queue on the broker, so clouds can share one."""


class ComputeQuota(_Section):
    """Nova's default quota limits for every project; -1 means unlimited."""

    instances: int = Field(default=10, ge=-1)
    cores: int = Field(default=20, ge=-1)
    ram: int = Field(default=50 * 1024, ge=-1)
    """MiB."""
    metadata_items: int = Field(default=128, ge=-1)
    key_pairs: int = Field(default=100, ge=-1)
    server_groups: int = Field(default=10, ge=-1)
    server_group_members: int = Field(default=10, ge=-1)
    injected_files: int = Field(default=5, ge=-1)
    injected_file_content_bytes: int = Field(default=10240, ge=-1)
    injected_file_path_bytes: int = Field(default=255, ge=-1)


class FakeDriverSettings(_Section):
    """Timings and capacity of the ``fake`` virt driver (zero delays: as fast as possible)."""

    vcpus: int = Field(default=1000, ge=1)
    memory_mb: int = Field(default=800_000, ge=1)
    local_gb: int = Field(default=600_000, ge=1)
    spawn_seconds: float = Field(default=0.0, ge=0)
    action_seconds: float = Field(default=0.0, ge=0)
    """Seconds each power action, snapshot or destroy takes."""
    fail_spawn: Literal["never", "once", "always"] = "never"
    """Fault injection: spawns raise once per instance, or always."""


class ComputeSettings(_Section):
    port: int = Field(default=8774, ge=0, le=65535)
    host: str = ""
    """This compute agent's host name (default: the machine's)."""
    driver: Literal["fake"] = "fake"
    fake: FakeDriverSettings = FakeDriverSettings()
    cpu_allocation_ratio: float = Field(default=16.0, gt=0)
    ram_allocation_ratio: float = Field(default=1.5, gt=0)
    disk_allocation_ratio: float = Field(default=1.0, gt=0)
    reserved_host_memory_mb: int = Field(default=512, ge=0)
    reserved_host_disk_mb: int = Field(default=0, ge=0)
    reserved_host_cpus: int = Field(default=0, ge=0)
    report_interval: float = Field(default=10, gt=0)
    """Seconds between an agent's heartbeats."""
    service_down_time: float = Field(default=60, gt=0)
    """Seconds without a heartbeat after which a service is down."""
    max_attempts: int = Field(default=3, ge=1)
    """Hosts a build may try (the first and its alternates) before it goes to ERROR."""
    default_availability_zone: str = "nova"
    internal_service_availability_zone: str = "internal"
    max_limit: int = Field(default=1000, ge=1)
    """Most items a list returns in one page."""
    quota: ComputeQuota = ComputeQuota()
    scheduler_filters: tuple[str, ...] = ()
    """Enabled scheduler filters (empty: all of them)."""
    policy: dict[str, str] = {}
    """Policy rule overrides: rule name to check string."""


class StoragePolicy(_Section):
    index: int = Field(ge=0)
    name: str
    default: bool = False


class SyncRealm(_Section):
    """A container sync realm: clusters whose operators share :attr:`key`."""

    key: str
    clusters: dict[str, str] = Field(default_factory=dict)
    """Cluster name -> its proxy's URL up to ``/v1/``; empty: this cloud's own proxy."""


class ObjectSettings(_Section):
    port: int = Field(default=8080, ge=0, le=65535)
    """The proxy (Swift's API)."""
    ring_dir: Path | None = None
    """Where the rings are (default DATA_DIR/rings)."""
    devices: Path | None = None
    """A storage node's devices, one directory each (default DATA_DIR/object-devices)."""
    node_ip: str = "127.0.0.1"
    object_port: int = Field(default=6200, ge=0, le=65535)
    container_port: int = Field(default=6201, ge=0, le=65535)
    account_port: int = Field(default=6202, ge=0, le=65535)
    device_names: tuple[str, ...] = ("d1", "d2", "d3")
    """The all-in-one node's devices, made and put in the rings on first start."""
    replicas: int = Field(default=3, ge=1)
    part_power: int = Field(default=10, ge=1, le=24)
    hash_path_prefix: str | None = None
    """Salts for path hashes; None: generated once and kept in DATA_DIR/secrets.json."""
    hash_path_suffix: str | None = None
    policies: tuple[StoragePolicy, ...] = (
        StoragePolicy(index=0, name="gold", default=True),
        StoragePolicy(index=1, name="silver"),
    )
    node_timeout: float = Field(default=10, gt=0)
    info_cache_seconds: float = Field(default=10.0, ge=0)
    """How long a proxy keeps what it learnt of an account or a container (ACLs, policy,
    metadata) before asking again (Swift's ``recheck_*_existence``; 0: ask every time).
    A change through any proxy of the host is seen at once; one through another host's
    proxy within this time."""
    account_ratelimit: float = Field(default=0.0, ge=0)
    """Container PUTs and DELETEs per second per account, per proxy (0: no limit)."""
    container_ratelimit: float = Field(default=0.0, ge=0)
    """Object PUTs and DELETEs per second per container, per proxy (0: no limit)."""
    ratelimit_max_sleep: float = Field(default=60.0, ge=0)
    """A request that would wait longer than this for its turn is refused (498)."""
    sync_realms: dict[str, SyncRealm] = Field(default_factory=dict)
    """Container sync realms, named in ``X-Container-Sync-To: //<realm>/<cluster>/...``."""
    sync_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")
    """Hosts a full-URL ``X-Container-Sync-To`` may name."""
    sync_interval: float = Field(default=2.0, gt=0)
    """Seconds between the container sync daemon's passes over this node's containers."""
    replicator_interval: float = Field(default=30.0, gt=0)
    """Seconds between the object replicator's passes over this node's partitions."""
    updater_interval: float = Field(default=5.0, gt=0)
    """Seconds between retries of container updates waiting in ``async_pending``."""
    expirer_interval: float = Field(default=300.0, gt=0)
    """Seconds between the object expirer's passes (expired objects are hidden meanwhile)."""
    auditor_interval: float = Field(default=3600.0, gt=0)
    """Seconds between the object auditor's passes (each reads every object back)."""

    @model_validator(mode="after")
    def _one_default_policy(self) -> ObjectSettings:
        indexes = [p.index for p in self.policies]
        names = [p.name.lower() for p in self.policies]
        if 0 not in indexes:
            raise ValueError("storage policy 0 must exist")
        if len(set(indexes)) != len(indexes) or len(set(names)) != len(names):
            raise ValueError("storage policy indexes and names must be unique")
        if sum(p.default for p in self.policies) != 1:
            raise ValueError("exactly one storage policy must be the default")
        return self


class BootstrapSettings(_Section):
    region: str = "RegionOne"
    admin_username: str = "admin"
    admin_password: str | None = None
    """None: a random password is generated on first start and kept in the data directory."""
    admin_project: str = "admin"
    demo_username: str = "demo"
    demo_password: str | None = None
    demo_project: str = "demo"
    image_dir: Path | None = None
    """Disk images imported as public images on first start (default DATA_DIR/seed-images)."""


class Settings(_Section):
    data_dir: Path = Path("data")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    identity: IdentitySettings = IdentitySettings()
    image: ImageSettings = ImageSettings()
    compute: ComputeSettings = ComputeSettings()
    object: ObjectSettings = ObjectSettings()
    bus: BusSettings = BusSettings()
    bootstrap: BootstrapSettings = BootstrapSettings()

    @classmethod
    def load(
        cls,
        config_file: Path | None = None,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> Settings:
        """Build settings from defaults, then ``config_file``, then ``environ``, then ``overrides``.

        :raises ConfigError: when a value is missing, unknown or of the wrong type.
        """
        environ = environ or {}
        if config_file is None and environ.get(CONFIG_ENV):
            config_file = Path(environ[CONFIG_ENV])
        data: dict[str, Any] = {}
        if config_file is not None:
            data = _read_toml(config_file)
        _deep_merge(data, _from_environ(environ))
        _deep_merge(data, overrides)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(_describe(exc)) from exc

    def service_url(self, port: int, path: str = "") -> str:
        return f"http://{self.server.advertised_host}:{port}{path}"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from exc


def _from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        path = name[len(ENV_PREFIX) :].lower().split(ENV_SECTION_SEPARATOR)
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{name} conflicts with another OVERCAST_ variable")
        node[path[-1]] = _parse_env_value(name, raw)
    return tree


def _parse_env_value(name: str, raw: str) -> Any:
    if raw[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{name} looks like JSON but is not valid: {exc}") from exc
    return raw


def _deep_merge(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    for key, value in other.items():
        current = into.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            _deep_merge(current, value)
        elif isinstance(value, BaseModel):
            into[key] = value.model_dump(by_alias=True)
        else:
            into[key] = value


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}")
    return "invalid configuration: " + "; ".join(parts)
