"""The identity API's routes, one module per resource family."""

from overcast.identity.handlers import (
    app_creds,
    auth,
    catalog,
    credentials,
    discovery,
    domain_configs,
    domains,
    endpoint_filter,
    grants,
    groups,
    legacy,
    projects,
    role_assignments,
    roles,
    trusts,
    users,
)

# domain_configs comes before domains: /v3/domains/config/default is not a domain id.
ROUTERS = [
    discovery.router,
    auth.router,
    domain_configs.router,
    domains.router,
    projects.router,
    users.router,
    groups.router,
    roles.router,
    grants.router,
    role_assignments.router,
    catalog.router,
    endpoint_filter.router,
    credentials.router,
    app_creds.router,
    trusts.router,
    legacy.router,
]
