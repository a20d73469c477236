"""Tempest's identity API tests against a two-worker all-in-one cloud.

Every test id in ``conformance/baseline/identity.txt`` must still pass.
"""

from __future__ import annotations

import pytest

from tests.conformance import runner

pytestmark = [pytest.mark.conformance, pytest.mark.timeout(1800)]


def test_identity_baseline_still_passes() -> None:
    code = runner.main(["--services", "identity", "--workers", "2", "--check-baseline"])
    assert code == 0, "a Tempest test in the identity baseline no longer passes (see output above)"
