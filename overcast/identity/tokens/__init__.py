"""Fernet-style tokens: encrypted payloads, no token rows in the database."""
