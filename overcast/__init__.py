"""Overcast: an IaaS cloud in one Python package that speaks OpenStack's APIs."""

__version__ = "0.1.0"
