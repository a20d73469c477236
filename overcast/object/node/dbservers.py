"""The container and account servers: one SQLite database per container and per account.

A container server lists a container's objects (object servers send it each
change) and reports its totals to its account's server; the account server
lists the account's containers. Listings leave this node as JSON; the proxy
formats them for clients.
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from starlette.requests import Request
from starlette.responses import Response

from overcast.common.threads import in_thread
from overcast.object.headers import CONTAINER_SETTINGS
from overcast.object.node.common import (
    NodeConfig,
    Target,
    answer_each,
    has_device,
    is_replication,
    other_replicas,
    plain,
    timestamp_of,
    title,
)
from overcast.object.paths import hash_path
from overcast.object.storage.databases import (
    AccountDatabase,
    ContainerDatabase,
    Database,
    DatabaseGone,
    Row,
    Subdir,
    row_from_json,
)
from overcast.object.timestamps import Timestamp

LOG = logging.getLogger(__name__)
CONTAINER_META = CONTAINER_SETTINGS
CONTAINER_META_PREFIXES = ("x-container-meta-", "x-container-sysmeta-")
ACCOUNT_META_PREFIXES = ("x-account-meta-", "x-account-sysmeta-")
ACCOUNT_META = ("x-account-access-control",)
LISTING_LIMIT = 10_000
REPORT_DELAY = 1.0
"""Seconds a container waits after an object change before reporting to its account: an
account's object count and bytes lag its containers' by about this much (Swift's lag by
its container updater's pass, minutes), and a busy container costs its account one
synced write per second per replica instead of one per few PUTs."""


def db_path_hash(config: NodeConfig, account: str, container: str | None = None) -> str:
    """The name of an account's or a container's database."""
    return hash_path(config.hash_prefix, config.hash_suffix, account, container).hex()


def metadata_updates(
    request: Request, names: tuple[str, ...], prefixes: tuple[str, ...], timestamp: Timestamp
) -> dict[str, tuple[str, Timestamp]]:
    return {
        title(name): (value, timestamp)
        for name, value in request.headers.items()
        if name in names or name.startswith(prefixes)
    }


def metadata_headers(info: dict[str, Any]) -> dict[str, str]:
    return {key: value for key, (value, _) in info["metadata"].items() if value != ""}


def listing_json(found: list[Row | Subdir], *, containers: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in found:
        if isinstance(item, Subdir):
            out.append({"subdir": item.name})
        elif containers:
            extra = item.extra or {}
            out.append({
                "name": item.name,
                "count": item.count,
                "bytes": item.size,
                "last_modified": Timestamp.parse(extra.get("put_timestamp", "0")).seconds,
            })  # fmt: skip
        else:
            out.append({
                "name": item.name,
                "hash": item.etag,
                "bytes": item.size,
                "content_type": item.content_type,
                "last_modified": item.timestamp.seconds,
            })  # fmt: skip
    return out


class RowBatches:
    """Object rows bound for one database, merged in one transaction per batch (group commit).

    While a batch commits, the rows that arrive for the same database wait and
    go together in the next one. Each caller hears back only once its row is on
    disk, so an update is as durable as with a transaction of its own, but a
    burst of writes to one container costs a few commits, not one each.
    """

    def __init__(self) -> None:
        self._waiting: dict[Path, list[tuple[Row, asyncio.Future[bool]]]] = {}
        self._flushing: set[asyncio.Task[None]] = set()  # held: the loop keeps only weak refs

    async def merge(self, db: Database, row: Row) -> bool:
        """Merge ``row`` if the database is live: False when it is deleted.

        :raises DatabaseGone: when there is no database.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        waiting = self._waiting.get(db.path)
        if waiting is not None:
            waiting.append((row, done))  # the running flush takes it next
        else:
            self._waiting[db.path] = [(row, done)]
            task = loop.create_task(self._flush(db))
            self._flushing.add(task)
            task.add_done_callback(self._flushing.discard)
        return await done

    async def _flush(self, db: Database) -> None:
        while batch := self._waiting.get(db.path):
            self._waiting[db.path] = []
            rows = [row for row, _ in batch]
            try:
                merged = await in_thread(partial(db.merge, rows, if_live=True))
            except Exception as exc:  # every caller of this batch hears of it
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(merged)
        self._waiting.pop(db.path, None)


class DatabaseServer:
    """What both servers do: create, delete, read stats and metadata, list."""

    kind = ""
    meta_names: tuple[str, ...] = ()
    meta_prefixes: tuple[str, ...] = ()

    def __init__(self, config: NodeConfig, client: httpx.AsyncClient) -> None:
        self.config = config
        self.client = client

    def database(self, target: Target) -> Database:
        raise NotImplementedError

    def _path(self, target: Target, container: str | None) -> Any:
        hash_ = db_path_hash(self.config, target.account, container)
        folder = self.config.devices / target.device / f"{self.kind}s" / str(target.partition)
        return folder / hash_[-3:] / hash_ / f"{hash_}.db"

    def stat_headers(self, info: dict[str, Any]) -> dict[str, str]:
        raise NotImplementedError

    async def head(self, request: Request, target: Target) -> Response:
        db = self.database(target)
        try:
            info = await in_thread(db.info)
        except DatabaseGone:
            return plain(404)
        if info["deleted"]:
            return plain(404, headers={"X-Backend-Timestamp": info["delete_timestamp"]})
        headers = self.stat_headers(info) | metadata_headers(info)
        if request.method == "HEAD":
            return Response(status_code=204, headers=headers)
        try:
            listing = await in_thread(self._listing, db, request)
        except ValueError as exc:
            return plain(400, str(exc))
        body = json.dumps(listing_json(listing, containers=self.kind == "account"))
        return Response(body, status_code=200, headers=headers, media_type="application/json")

    @staticmethod
    def _listing(db: Database, request: Request) -> list[Row | Subdir]:
        params = request.query_params
        limit = int(params.get("limit", LISTING_LIMIT))
        if not 0 <= limit <= LISTING_LIMIT:
            raise ValueError(f"Maximum limit is {LISTING_LIMIT}")
        return db.listing(
            limit=limit,
            marker=params.get("marker", ""),
            end_marker=params.get("end_marker", ""),
            prefix=params.get("prefix", ""),
            delimiter=params.get("delimiter", ""),
            reverse=params.get("reverse", "").lower() in ("1", "true", "yes", "on"),
        )

    async def replicate(self, request: Request, target: Target) -> Response:
        """Replication (:data:`REPLICATE`): take in another replica's record and rows (a
        JSON body, which may be empty), then answer this replica's digest, to compare."""
        db = self.database(target)
        body = await request.body()
        if body:
            try:
                sent = json.loads(body)
                rows = [row_from_json(row) for row in sent.get("rows", [])]
                state = sent["state"]
                await in_thread(db.absorb, state, rows)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                return plain(400, f"Invalid replication body: {exc}")
        if not db.exists():
            return plain(404)
        digest = await in_thread(db.digest)
        return Response(json.dumps(digest), media_type="application/json")

    async def post(self, request: Request, target: Target) -> Response:
        timestamp = timestamp_of(request)
        db = self.database(target)
        if await in_thread(db.is_deleted):
            return plain(404)
        updates = metadata_updates(request, self.meta_names, self.meta_prefixes, timestamp)
        await in_thread(db.update_metadata, updates)
        return plain(204)


class ContainerServer(DatabaseServer):
    kind = "container"
    meta_names = CONTAINER_META
    meta_prefixes = CONTAINER_META_PREFIXES

    def __init__(self, config: NodeConfig, client: httpx.AsyncClient) -> None:
        super().__init__(config, client)
        self._pending: dict[Path, asyncio.Task[None]] = {}
        self._rows = RowBatches()

    def database(self, target: Target) -> ContainerDatabase:
        return ContainerDatabase(self._path(target, target.container))

    def stat_headers(self, info: dict[str, Any]) -> dict[str, str]:
        return {
            "X-Container-Object-Count": str(info["object_count"]),
            "X-Container-Bytes-Used": str(info["bytes_used"]),
            "X-Timestamp": Timestamp.parse(info["created_at"]).normal,
            "X-Put-Timestamp": Timestamp.parse(info["put_timestamp"]).normal,
            "X-Backend-Storage-Policy-Index": info.get("policy", "0"),
        }

    async def handle(self, request: Request, target: Target) -> Response:
        if target.obj is not None:  # each replica it names looks for its own device
            replicas = [(request, target), *other_replicas(request, target)]
            answers = await asyncio.gather(*(self.object_row(r, t) for r, t in replicas))
            return answers[0] if len(answers) == 1 else answer_each(answers)
        if not has_device(self.config, target.device):
            return plain(507, f"{target.device} is not a device here")
        if is_replication(request):
            return await self.replicate(request, target)
        method = request.method
        if method == "PUT":
            return await self.put(request, target)
        if method in ("GET", "HEAD"):
            return await self.head(request, target)
        if method == "POST":
            return await self.post(request, target)
        if method == "DELETE":
            return await self.delete(request, target)
        return plain(405)

    async def object_row(self, request: Request, target: Target) -> Response:
        """An object server's news of one object (PUT or DELETE)."""
        if not has_device(self.config, target.device):
            return plain(507, f"{target.device} is not a device here")
        timestamp = timestamp_of(request)
        db = self.database(target)
        name = target.obj or ""
        if request.method == "PUT":
            try:
                size = int(request.headers.get("x-size", ""))
            except ValueError:
                return plain(400, "X-Size must be an integer")
            row = Row(
                name,
                timestamp,
                False,
                size,
                0,
                request.headers.get("x-content-type", ""),
                request.headers.get("x-etag", ""),
            )
        elif request.method == "DELETE":
            row = Row(name, timestamp, deleted=True)
        else:
            return plain(405)
        try:
            if not await self._rows.merge(db, row):
                return plain(404)
        except DatabaseGone:
            return plain(404)
        route = _account_route(request)
        if route is not None:
            self._report_soon(route, target, db)
        return plain(201 if request.method == "PUT" else 204)

    def _report_soon(self, route: AccountRoute, target: Target, db: ContainerDatabase) -> None:
        """Report the container's totals shortly: one report for a burst of object changes."""
        if db.path in self._pending:
            return

        async def later() -> None:
            await asyncio.sleep(REPORT_DELAY)
            self._pending.pop(db.path, None)  # a change from now on asks for a new report
            await self._send_report(route, target, db)

        self._pending[db.path] = asyncio.get_running_loop().create_task(later())

    async def reported(self) -> None:
        """Return once every account report now due has been sent."""
        while self._pending:
            await asyncio.gather(*self._pending.values(), return_exceptions=True)

    async def put(self, request: Request, target: Target) -> Response:
        timestamp = timestamp_of(request)
        db = self.database(target)
        policy = request.headers.get("x-backend-storage-policy-index", "0")
        if db.exists() and not await in_thread(db.is_deleted):
            held = (await in_thread(db.info)).get("policy", "0")
            if held != policy and "x-backend-storage-policy-index" in request.headers:
                conflict = {"X-Backend-Storage-Policy-Index": held}
                return plain(409, "Container is in another storage policy", headers=conflict)
        created = await in_thread(
            lambda: db.initialize(
                timestamp, account=target.account, container=target.container, policy=policy
            )
        )
        updates = metadata_updates(request, self.meta_names, self.meta_prefixes, timestamp)
        if updates:
            await in_thread(db.update_metadata, updates)
        await self.report(request, target, db)
        return plain(201 if created else 202)

    async def delete(self, request: Request, target: Target) -> Response:
        timestamp = timestamp_of(request)
        db = self.database(target)
        if await in_thread(db.is_deleted):
            return plain(404)
        if not await in_thread(db.is_empty):
            return plain(409, "There was a conflict when trying to complete your request.")
        await in_thread(db.mark_deleted, timestamp)
        await self.report(request, target, db)
        return plain(204)

    async def report(self, request: Request, target: Target, db: ContainerDatabase) -> None:
        """Tell the account server the proxy named what this container holds now."""
        route = _account_route(request)
        if route is not None:
            await self._send_report(route, target, db)

    async def _send_report(
        self, route: AccountRoute, target: Target, db: ContainerDatabase
    ) -> None:
        host, device, partition = route
        try:
            info = await in_thread(db.info)
        except DatabaseGone:
            return
        names = (device, partition, target.account, target.container or "")
        url = f"http://{host}/" + "/".join(quote(n, safe="") for n in names)
        headers = {
            "X-Put-Timestamp": info["put_timestamp"],
            "X-Delete-Timestamp": info["delete_timestamp"],
            "X-Object-Count": str(info["object_count"]),
            "X-Bytes-Used": str(info["bytes_used"]),
            "X-Timestamp": Timestamp.now().internal,
            "X-Backend-Storage-Policy-Index": info.get("policy", "0"),
        }
        try:
            await self.client.put(url, headers=headers, timeout=self.config.update_timeout)
        except httpx.HTTPError as exc:
            LOG.info("account update %s failed: %s", url, exc)


AccountRoute = tuple[str, str, str]


def _account_route(request: Request) -> AccountRoute | None:
    """The account server the proxy named (``X-Account-Host/-Device/-Partition``), if any."""
    host = request.headers.get("x-account-host")
    device = request.headers.get("x-account-device")
    partition = request.headers.get("x-account-partition")
    return (host, device, partition) if host and device and partition else None


class AccountServer(DatabaseServer):
    kind = "account"
    meta_names = ACCOUNT_META
    meta_prefixes = ACCOUNT_META_PREFIXES

    def database(self, target: Target) -> AccountDatabase:
        return AccountDatabase(self._path(target, None))

    def stat_headers(self, info: dict[str, Any]) -> dict[str, str]:
        per_policy = {
            f"X-Backend-Policy-{index}-{title(key.replace('_', '-'))}": str(value)
            for index, stats in info["policies"].items()
            for key, value in stats.items()
        }  # the proxy shows them under the policies' names
        return per_policy | {
            "X-Account-Container-Count": str(info["container_count"]),
            "X-Account-Object-Count": str(info["object_count"]),
            "X-Account-Bytes-Used": str(info["bytes_used"]),
            "X-Timestamp": Timestamp.parse(info["created_at"]).normal,
            "X-Put-Timestamp": Timestamp.parse(info["put_timestamp"]).normal,
        }

    async def handle(self, request: Request, target: Target) -> Response:
        if not has_device(self.config, target.device):
            return plain(507, f"{target.device} is not a device here")
        if target.container is not None:
            return await self.container_report(request, target)
        if is_replication(request):
            return await self.replicate(request, target)
        method = request.method
        if method == "PUT":
            timestamp = timestamp_of(request)
            db = self.database(target)
            created = await in_thread(lambda: db.initialize(timestamp, account=target.account))
            updates = metadata_updates(request, self.meta_names, self.meta_prefixes, timestamp)
            if updates:
                await in_thread(db.update_metadata, updates)
            return plain(201 if created else 202)
        if method in ("GET", "HEAD"):
            return await self.head(request, target)
        if method == "POST":
            return await self.post(request, target)
        if method == "DELETE":
            timestamp = timestamp_of(request)
            db = self.database(target)
            if await in_thread(db.is_deleted):
                return plain(404)
            await in_thread(db.mark_deleted, timestamp)
            return plain(204)
        return plain(405)

    async def container_report(self, request: Request, target: Target) -> Response:
        """A container server's totals for one of this account's containers."""
        if request.method != "PUT":
            return plain(405)
        db = self.database(target)
        headers = request.headers
        try:
            put_at = Timestamp.parse(headers.get("x-put-timestamp", "0"))
            delete_at = Timestamp.parse(headers.get("x-delete-timestamp", "0"))
            count = int(headers.get("x-object-count", "0"))
            used = int(headers.get("x-bytes-used", "0"))
            reported_at = timestamp_of(request)
            policy = int(headers.get("x-backend-storage-policy-index", "0"))
        except ValueError as exc:
            return plain(400, str(exc))
        if not db.exists():
            # the account is created on its first container (Swift's account autocreate)
            created_at = min(put_at, reported_at)
            await in_thread(lambda: db.initialize(created_at, account=target.account))
        elif await in_thread(db.is_deleted):
            return plain(404)
        name = target.container or ""
        await in_thread(
            lambda: db.put_container(
                name,
                put_timestamp=put_at,
                delete_timestamp=delete_at,
                object_count=count,
                bytes_used=used,
                reported_at=reported_at,
                policy=policy,
            )
        )
        return plain(201)
