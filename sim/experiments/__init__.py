"""Experiments: replications and policy comparison, parameter sweeps, and where they run.

Experiments write results; analysis (:mod:`sim.results`, :mod:`sim.plots`) only reads them.
"""
