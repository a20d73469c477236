"""The compute API as an ASGI app (every route but discovery lives under ``/v2.1``)."""

from __future__ import annotations

from overcast.common.api import ApiApp, make_app
from overcast.common.api.errors import ErrorStyle, nova_error
from overcast.common.auth.middleware import TokenValidator
from overcast.compute.api_versions import MICROVERSIONS
from overcast.compute.handlers import ROUTERS
from overcast.compute.service import ComputeService


def make_compute_app(
    service: ComputeService, validator: TokenValidator | None, *, identity_url: str
) -> ApiApp:
    """The compute API, validating tokens with ``validator`` (None: every caller is anonymous)."""
    return make_app(
        service="compute",
        routers=ROUTERS,
        errors=ErrorStyle(nova_error, challenge=f'Keystone uri="{identity_url}"'),
        enforcer=service.enforcer,
        validator=validator,
        state={"compute": service},
        access_log=service.settings.server.access_log,
        microversions=MICROVERSIONS,
        strict_slashes=True,  # as Nova: /os-simple-tenant-usage/ is not /os-simple-tenant-usage
    )
