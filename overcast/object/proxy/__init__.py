"""The object storage proxy: Swift's v1 API, reaching a quorum of the ring's storage nodes."""
