"""The ``overcast`` command."""
