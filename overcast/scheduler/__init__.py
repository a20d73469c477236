"""The scheduler: picks a compute host for each instance (nova-scheduler + Placement's claims)."""
