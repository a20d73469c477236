"""Request authentication: tokens become a :class:`RequestContext`."""

from overcast.common.auth.context import AuthInfo, RequestContext
from overcast.common.auth.middleware import AuthMiddleware, TokenValidator

__all__ = ["AuthInfo", "AuthMiddleware", "RequestContext", "TokenValidator"]
