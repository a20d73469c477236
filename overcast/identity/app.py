"""The identity API as an ASGI app."""

from __future__ import annotations

from overcast.common.api import ApiApp, make_app
from overcast.common.api.errors import ErrorStyle, Unauthorized, keystone_error
from overcast.common.auth.context import AuthInfo
from overcast.identity.handlers import ROUTERS
from overcast.identity.service import IdentityService
from overcast.identity.tokens.provider import TokenProvider
from overcast.identity.tokens.scope import TokenInvalid


class LocalValidator:
    """Validates ``X-Auth-Token`` in process, with the identity service's own provider."""

    def __init__(self, provider: TokenProvider) -> None:
        self.provider = provider

    async def validate(self, token: str) -> AuthInfo:
        try:
            return (await self.provider.validate(token)).info
        except TokenInvalid:
            raise Unauthorized() from None


def make_identity_app(service: IdentityService, provider: TokenProvider | None = None) -> ApiApp:
    provider = provider or TokenProvider(service)
    public = service.settings.service_url(service.conf.port, "/v3")
    return make_app(
        service="identity",
        routers=ROUTERS,
        errors=ErrorStyle(keystone_error, challenge=f'Keystone uri="{public}"'),
        enforcer=service.enforcer,
        validator=LocalValidator(provider),
        state={"identity": service, "tokens": provider},
        access_log=service.settings.server.access_log,
    )
