"""Typed HTTP clients for calls from one service to another, with the caller's token."""

from overcast.common.clients.image import ImageClient

__all__ = ["ImageClient"]
