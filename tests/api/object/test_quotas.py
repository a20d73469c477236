"""Container quotas (set by the owner) and account quotas (set by a ResellerAdmin)."""

from __future__ import annotations

import asyncio

from tests.api.identity.conftest import Api
from tests.api.object.conftest import Swift, account


async def test_container_quotas_refuse_what_would_pass_them(me: Api) -> None:
    base = account(me)
    quotas = {"X-Container-Meta-Quota-Bytes": "10", "X-Container-Meta-Quota-Count": "2"}
    assert (await me.put(f"{base}/q", headers=quotas)).status_code == 201
    assert (await me.put(f"{base}/q/a", content=b"12345")).status_code == 201
    over = await me.put(f"{base}/q/b", content=b"123456")
    assert over.status_code == 413 and over.text == "Upload exceeds quota."
    assert (await me.put(f"{base}/q/b", content=b"12345")).status_code == 201
    assert (await me.put(f"{base}/q/c", content=b"")).status_code == 413  # a third object
    copy = await me.put(f"{base}/q/d", headers={"X-Copy-From": "q/a"}, content=b"")
    assert copy.status_code == 413
    bad = await me.post(f"{base}/q", headers={"X-Container-Meta-Quota-Bytes": "lots"})
    assert bad.status_code == 400
    removed = await me.post(f"{base}/q", headers={"X-Remove-Container-Meta-Quota-Count": "x"})
    assert removed.status_code == 204
    assert "x-container-meta-quota-count" not in (await me.head(f"{base}/q")).headers


async def test_account_quotas_are_the_resellers_to_set(me: Api, swift: Swift) -> None:
    base = account(me)
    reseller = await swift.tenant("ResellerAdmin")
    await me.put(f"{base}/a")
    refused = await me.post(base, headers={"X-Account-Meta-Quota-Bytes": "100"})
    assert refused.status_code == 403
    assert (await me.post(base, headers={"X-Account-Quota-Count": "1"})).status_code == 403

    quota = {"X-Account-Quota-Bytes": "8", "X-Account-Quota-Count": "1"}
    assert (await reseller.post(base, headers=quota)).status_code == 204
    shown = (await me.head(base)).headers
    assert shown["x-account-quota-bytes"] == "8" and shown["x-account-quota-count"] == "1"
    assert not any("sysmeta" in name for name in shown)
    assert (await me.put(f"{base}/a/big", content=b"123456789")).status_code == 413
    assert (await me.put(f"{base}/a/one", content=b"1234")).status_code == 201
    for _ in range(40):  # the account learns of the upload a moment later
        if (await me.head(base)).headers["x-account-object-count"] == "1":
            break
        await asyncio.sleep(0.05)
    assert (await me.put(f"{base}/a/two", content=b"1")).status_code == 413

    lift = {"X-Remove-Account-Quota-Count": "x", "X-Account-Quota-Bytes": ""}
    assert (await reseller.post(base, headers=lift)).status_code == 204
    assert "x-account-quota-count" not in (await me.head(base)).headers
    assert (await me.put(f"{base}/a/two", content=b"1")).status_code == 201
    bad = await reseller.post(base, headers={"X-Account-Quota-Bytes": "-1"})
    assert bad.status_code == 400


async def test_account_quota_per_storage_policy(me: Api, swift: Swift) -> None:
    base = account(me)
    reseller = await swift.tenant("ResellerAdmin")
    policy_quota = {"X-Account-Quota-Bytes-Policy-silver": "4"}
    assert (await reseller.post(base, headers=policy_quota)).status_code == 204
    await me.put(f"{base}/silver", headers={"X-Storage-Policy": "silver"})
    await me.put(f"{base}/gold")
    assert (await me.put(f"{base}/silver/o", content=b"12345")).status_code == 413
    assert (await me.put(f"{base}/gold/o", content=b"12345")).status_code == 201
    unknown = await reseller.post(base, headers={"X-Account-Quota-Bytes-Policy-bronze": "1"})
    assert unknown.status_code == 400
