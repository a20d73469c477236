"""The conductor: drives builds, and writes down what compute agents report."""

from overcast.compute.conductor.manager import Conductor

__all__ = ["Conductor"]
