"""Servers: creating them, showing them, listing them, and acting on them."""
