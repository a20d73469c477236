"""The compute API's routes, one module per resource family."""

from overcast.compute.handlers import (
    discovery,
    flavor_extras,
    flavors,
    instance_actions,
    keypairs,
    migrations,
    quotas,
    server_actions,
    server_groups,
    server_metadata,
    server_moves,
    servers,
)

ROUTERS = [
    discovery.router,
    flavors.router,
    flavor_extras.router,
    keypairs.router,
    servers.router,
    server_actions.router,
    server_metadata.router,
    instance_actions.router,
    migrations.router,
    server_groups.router,
    quotas.router,
]
assert server_moves  # its actions register with server_actions' dispatcher
