"""The image API's routes, one module per resource family."""

from overcast.image.handlers import (
    data,
    discovery,
    images,
    info,
    members,
    metadef_items,
    metadefs,
    tasks,
)

ROUTERS = [
    discovery.router,
    images.router,
    data.router,
    members.router,
    tasks.router,
    info.router,
    metadefs.router,
    metadef_items.router,
]
