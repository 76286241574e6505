"""Charts of saved results (matplotlib only): nothing here simulates or imports the engine.

* :mod:`sim.plots.run` - charts of one run (funnel, emergency contact by DPD, recovery by
  month, survival, the book by bucket, roll rates, agents, cost and recovery);
* :mod:`sim.plots.compare` - charts of a comparison of policies (estimates, forest plot);
* :mod:`sim.plots.sweep` - charts of a parameter sweep;
* :mod:`sim.plots.style` - the look, colours, metric labels and units;
* :mod:`sim.plots.files` - :func:`plot_run` and :func:`plot_comparison` write them all.

The estimators behind the charts are in :mod:`sim.results.estimators` (re-exported here for
notebooks). The common functions are importable from here: ``from sim import plots;
plots.funnel(run)``.
"""

from sim.plots.compare import (
    FOREST_METRICS,
    forest,
    policy_bars,
)
from sim.plots.draw import (
    LABEL_KW,
    as_runs,
    bars,
    bucket_name,
    ci_note,
    curve,
    error_bars,
    figure_axes,
    label_bars,
    no_data,
    run_horizon,
    run_name,
    run_summary,
    table_estimates,
)
from sim.plots.files import (
    FORMATS,
    PLOTS_DIR,
    comparison_charts,
    plot_comparison,
    plot_run,
    run_charts,
    save,
)
from sim.plots.run import (
    GRID_POINTS,
    TEN_PERCENT,
    agents,
    book_by_bucket,
    cost_vs_recovery,
    emergency_contact_by_dpd,
    funnel,
    recovery_by_month,
    roll_rates,
    survival,
)
from sim.plots.style import (
    BUCKET_COLOURS,
    EMPHASIS,
    OKABE_ITO,
    STYLE,
    apply_style,
    axis_label,
    format_value,
    metric_label,
    metric_unit,
    policy_colours,
    stage_colours,
    stage_label,
    style,
    styled,
    unit_axis,
    unit_text,
    yuan_text,
)
from sim.results.estimators import (
    NEXT_BUCKET,
    cure_times,
    emergency_contact_curve,
    kaplan_meier,
    recovery_table,
    roll_rate_matrix,
    wilson_interval,
)

__all__ = [
    "BUCKET_COLOURS",
    "EMPHASIS",
    "FOREST_METRICS",
    "FORMATS",
    "GRID_POINTS",
    "LABEL_KW",
    "NEXT_BUCKET",
    "OKABE_ITO",
    "PLOTS_DIR",
    "STYLE",
    "TEN_PERCENT",
    "agents",
    "apply_style",
    "as_runs",
    "axis_label",
    "bars",
    "book_by_bucket",
    "bucket_name",
    "ci_note",
    "comparison_charts",
    "cost_vs_recovery",
    "cure_times",
    "curve",
    "emergency_contact_by_dpd",
    "emergency_contact_curve",
    "error_bars",
    "figure_axes",
    "forest",
    "format_value",
    "funnel",
    "kaplan_meier",
    "label_bars",
    "metric_label",
    "metric_unit",
    "no_data",
    "plot_comparison",
    "plot_run",
    "policy_bars",
    "policy_colours",
    "recovery_by_month",
    "recovery_table",
    "roll_rate_matrix",
    "roll_rates",
    "run_charts",
    "run_horizon",
    "run_name",
    "run_summary",
    "save",
    "stage_colours",
    "stage_label",
    "style",
    "styled",
    "survival",
    "table_estimates",
    "unit_axis",
    "unit_text",
    "wilson_interval",
    "yuan_text",
]
