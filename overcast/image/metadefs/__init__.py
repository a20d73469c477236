"""Metadata definitions: namespaces of typed properties, objects and tags for other resources."""
