"""Tempest's identity, image, compute and object storage API tests against a two-worker
all-in-one cloud.

Every test id in ``conformance/baseline/<service>.txt`` must still pass.
"""

from __future__ import annotations

import pytest

from tests.conformance import runner

pytestmark = [pytest.mark.conformance, pytest.mark.timeout(1800)]

SERVICES = "identity image compute object-store"


def test_baselines_still_pass() -> None:
    code = runner.main(["--services", SERVICES, "--workers", "2", "--check-baseline"])
    assert code == 0, f"a Tempest test in the {SERVICES} baselines no longer passes (see above)"
