"""Results: what a run records, the figures computed from it, and run directories on disk.

Nothing here simulates: :mod:`~sim.results.records` holds the tables a run produced,
:mod:`~sim.results.summary` computes the headline figures, :mod:`~sim.results.stats` the
intervals across replications and :mod:`~sim.results.rundir` writes and reads them.
"""
