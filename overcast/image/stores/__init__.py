"""Where image data lives: one small interface (``base``) and its implementations."""

from overcast.image.stores.base import (
    DataNotFound,
    StorageFull,
    Store,
    StoreError,
    StoreInfo,
    StoreWriter,
)
from overcast.image.stores.file import FileStore

__all__ = [
    "DataNotFound",
    "FileStore",
    "StorageFull",
    "Store",
    "StoreError",
    "StoreInfo",
    "StoreWriter",
]
