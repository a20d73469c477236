"""The compute API's routes, one module per resource family."""

from overcast.compute.handlers import (
    aggregates,
    discovery,
    extensions,
    flavor_extras,
    flavors,
    hypervisors,
    instance_actions,
    keypairs,
    migrations,
    networks,
    quotas,
    server_actions,
    server_groups,
    server_metadata,
    server_moves,
    servers,
    services,
    usage,
)

ROUTERS = [
    discovery.router,
    extensions.router,
    flavors.router,
    flavor_extras.router,
    keypairs.router,
    servers.router,
    server_actions.router,
    server_metadata.router,
    instance_actions.router,
    migrations.router,
    networks.router,
    server_groups.router,
    quotas.router,
    services.router,
    hypervisors.router,
    aggregates.router,
    usage.router,
]
assert server_moves  # its actions register with server_actions' dispatcher
