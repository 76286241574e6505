"""Charts of saved results (matplotlib only): nothing here simulates or imports the engine.

* :mod:`sim.plots.run` - charts of one run (funnel, emergency contact by DPD, recovery by
  month, survival, the book by bucket, roll rates, cost and recovery);
* :mod:`sim.plots.call_centre` - the agents chart of one run (occupancy, list, abandonment);
* :mod:`sim.plots.conversations` - promises made, kept and broken by day past due;
* :mod:`sim.plots.compare` - charts of a comparison of policies (estimates, forest plot);
* :mod:`sim.plots.sweep` - charts of a parameter sweep;
* :mod:`sim.plots.style` - the look, colours, metric labels and units;
* :mod:`sim.plots.draw` - drawing helpers the charts share;
* :mod:`sim.plots.files` - :func:`plot_run` and :func:`plot_comparison` write them all.

Everything public in those modules (their ``__all__``) is importable from here, for notebooks:
``from sim import plots; plots.funnel(run)``; so are the estimators behind the charts
(:mod:`sim.results.estimators`).
"""

from sim.plots.call_centre import *  # noqa: F403
from sim.plots.compare import *  # noqa: F403
from sim.plots.conversations import *  # noqa: F403
from sim.plots.draw import *  # noqa: F403
from sim.plots.files import *  # noqa: F403
from sim.plots.run import *  # noqa: F403
from sim.plots.style import *  # noqa: F403
from sim.results.estimators import *  # noqa: F403
