"""Object storage: Swift's design (a ring, a proxy, storage nodes and their background work)."""
