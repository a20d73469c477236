"""The image API as an ASGI app."""

from __future__ import annotations

from overcast.common.api import ApiApp, make_app
from overcast.common.api.errors import ErrorStyle, glance_error
from overcast.common.auth.middleware import TokenValidator
from overcast.image.handlers import ROUTERS
from overcast.image.service import ImageService


def make_image_app(
    service: ImageService, validator: TokenValidator | None, *, identity_url: str
) -> ApiApp:
    """The image API, validating tokens with ``validator`` (None: every caller is anonymous)."""
    return make_app(
        service="image",
        routers=ROUTERS,
        errors=ErrorStyle(glance_error, challenge=f'Keystone uri="{identity_url}"'),
        enforcer=service.enforcer,
        validator=validator,
        state={"image": service},
        access_log=service.settings.server.access_log,
        strict_slashes=True,
    )
