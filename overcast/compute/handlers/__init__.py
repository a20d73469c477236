"""The compute API's routes, one module per resource family."""

from overcast.compute.handlers import discovery, flavor_extras, flavors, keypairs

ROUTERS = [
    discovery.router,
    flavors.router,
    flavor_extras.router,
    keypairs.router,
]
