"""The engine: one replication of a scenario as SimPy processes (:func:`simulate`)."""

from sim.engine.core import Model, simulate

__all__ = ["Model", "simulate"]
