"""Typed HTTP clients for calls from one service to another, with the caller's token."""

from overcast.common.clients.image import ImageClient, ImageServiceError

__all__ = ["ImageClient", "ImageServiceError"]
