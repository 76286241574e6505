"""``overdue calibrate``: search, evaluate the best trial, and write what a validation team
reads (see :mod:`sim.calibration.report` for the files).

The fitted scenario is evaluated again on ``final_replications`` replications (replications
``0..F-1`` of the same seed: the trials' own replications and more), which gives each
target's figure its 95% CI. Every file is written atomically, so a calibration directory
holds the previous set of results or the new one, never half of one; the study database is
the search's own (see :mod:`sim.calibration.search`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.calibration import report, search
from sim.calibration.spec import Calibration
from sim.experiments.execution import Runner
from sim.experiments.replications import replicate, tidy
from sim.results.comparison import estimates_table
from sim.results.rundir import write_file_atomically

PLOTS = "plots"


@dataclass(frozen=True)
class CalibrationResult:
    directory: Path
    search: search.SearchOutcome | None  # None: ``trials = 0``, the base checked as it is
    fit: pd.DataFrame
    identifiability: pd.DataFrame
    warnings: list[str]
    files: list[Path]


def evaluate(cal: Calibration, values: dict[str, Any], workers: int = 1,
             scheduler: Any = None) -> pd.DataFrame:  # fmt: skip
    """Estimates with 95% CIs of every headline metric of the scenario at ``values``, over
    ``cal.final_replications`` replications."""
    scenario = cal.scenario(values)
    tasks = [((0, r), replicate, (scenario, cal.seed, r)) for r in range(cal.final_replications)]
    with Runner(workers, scheduler) as runner:
        results = dict(runner.run(tasks))
    return estimates_table(tidy([scenario], results))


def calibrate(
    cal: Calibration,
    out_dir: Path,
    *,
    workers: int = 1,
    scheduler: Any = None,
    resume: bool = False,
    progress: search.Progress | None = None,
    charts: bool = True,
) -> CalibrationResult:
    """Run (or resume) the search in ``out_dir``, then write the results there.

    With ``cal.trials == 0`` nothing is fitted: the base scenario itself is checked against
    the targets (``fit.csv`` and the charts of the observed against the simulated figures).
    """
    if cal.trials == 0:
        search.open_directory(cal, out_dir, resume)
        fit = report.fit_table(cal, evaluate(cal, {}, workers, scheduler))
        files = _write(cal, out_dir, None, fit, None, None, charts)
        return CalibrationResult(out_dir, None, fit, pd.DataFrame(), [], files)
    outcome = search.run_search(
        cal, out_dir, workers=workers, scheduler=scheduler, resume=resume, progress=progress
    )
    study = search.load_study(search.storage(out_dir))
    trials = report.trials_table(search.trial_values(study, cal))
    best = {p.key: outcome.best_values[p.key] for p in cal.parameters}
    estimates = evaluate(cal, best, workers, scheduler)
    fit = report.fit_table(cal, estimates)
    ident = report.identifiability(cal, trials)
    notes = report.warnings(ident)
    files = _write(cal, out_dir, trials, fit, ident, best, charts)
    return CalibrationResult(out_dir, outcome, fit, ident, notes, files)


def _write(
    cal: Calibration,
    out_dir: Path,
    trials: pd.DataFrame | None,
    fit: pd.DataFrame,
    ident: pd.DataFrame | None,
    best: dict[str, Any] | None,
    charts: bool,
) -> list[Path]:
    """Write the tables (and charts); without a search (``trials`` None) only the fit."""
    texts = {"fit.csv": fit.to_csv(index=False)}
    if trials is not None and ident is not None and best is not None:
        texts["calibrated.toml"] = report.calibrated_toml(cal, best, fit, ident)
        texts["trials.csv"] = trials.to_csv(index=False)
        texts["identifiability.csv"] = ident.to_csv(index=False)
    files = []
    for name, text in texts.items():
        path = out_dir / name
        write_file_atomically(path, lambda tmp, text=text: tmp.write_text(text, encoding="utf-8"))
        files.append(path)
    if charts:
        from sim.plots import calibration as charts_of
        from sim.plots.files import save

        plots = out_dir / PLOTS
        plots.mkdir(exist_ok=True)
        for name, fig in (
            ("convergence", None if trials is None else charts_of.convergence(trials)),
            ("roll_matrix", charts_of.roll_matrix(fit)),
            ("cure_curve", charts_of.cure_curve(fit)),
        ):
            if fig is None:
                continue
            path = plots / f"{name}.png"
            write_file_atomically(path, lambda tmp, fig=fig: save(fig, tmp, "png"))
            files.append(path)
    return files
