"""A FastAPI router whose read routes also answer HEAD, as OpenStack's APIs do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


class Router(APIRouter):
    def read(self, path: str, **kwargs: Any) -> Decorator:
        """A ``GET`` route that answers ``HEAD`` too (the server drops the body)."""
        return self.api_route(path, methods=["GET", "HEAD"], **kwargs)
