"""The compute API's routes, one module per resource family."""

from overcast.compute.handlers import discovery, flavor_extras, flavors, keypairs, servers

ROUTERS = [
    discovery.router,
    flavors.router,
    flavor_extras.router,
    keypairs.router,
    servers.router,
]
