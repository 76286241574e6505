"""The calibration search: optuna proposes parameter values, the simulator scores them, and an
SQLite database keeps every finished trial.

Each trial runs the base scenario with the proposed values on replications ``0..R-1`` of the
calibration's seed: the same replications for every trial (common random numbers), so two
trials differ by their parameters, not by their luck. The figures are pooled over the
replications (ratio estimators, as everywhere) and scored by
:meth:`Calibration.objective`.

The sampler is optuna's TPE. Trials are proposed ``batch`` at a time (with a *constant liar*
so a batch spreads out), and the sampler of each batch is seeded from the calibration's seed
and the number of trials already finished. TPE reads only finished trials, so the proposals
depend on the finished trials alone: not on the number of workers, and not on an
interruption. **Resuming**: the study lives in ``DIR/study.db`` (optuna's RDB storage on
SQLite, written at each trial's end); trials still running when the search was stopped
(Ctrl-C, kill -9) are marked failed on ``--resume`` and proposed again, and finished ones are
never rerun.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.calibration.spec import Calibration, FreeParameter
from sim.experiments.execution import Runner, Task
from sim.experiments.replications import Row, replicate
from sim.results.rundir import write_file_atomically

STUDY = "calibration"
DATABASE = "study.db"
SPEC_FILE = "calibration.json"
UNDEFINED = "undefined"
"""User attribute of a trial whose figures left a target undefined (scored as failed)."""
Progress = Callable[[int, int], None]


class CalibrationDirError(Exception):
    """The output directory cannot be used (not a calibration of this file, or not empty)."""


@dataclass(frozen=True)
class SearchOutcome:
    directory: Path
    finished: int  # trials finished (this session and before)
    ran: int  # trials run in this session
    best_values: dict[str, float]
    best_objective: float


def pooled(rows_by_replication: list[list[Row]]) -> dict[str, float]:
    """Every headline figure pooled over replications: sum of numerators / sum of
    denominators (the ratio estimator; plain figures have denominator 1, so their mean)."""
    num: dict[str, float] = {}
    den: dict[str, float] = {}
    for rows in rows_by_replication:
        for metric, _, n, d in rows:
            num[metric] = num.get(metric, 0.0) + n
            den[metric] = den.get(metric, 0.0) + d
    return {m: num[m] / den[m] if den[m] else math.nan for m in num}


def suggest(trial: Any, p: FreeParameter) -> float | int:
    """The trial's value for one free parameter."""
    if p.integer:
        return trial.suggest_int(p.key, int(math.ceil(p.lo)), int(math.floor(p.hi)), log=p.log)
    return trial.suggest_float(p.key, p.lo, p.hi, log=p.log)


def open_directory(cal: Calibration, out_dir: Path, resume: bool) -> None:
    """Create ``out_dir`` for a new search, or check that it holds this search to resume.

    Nothing is created for a search refused here."""
    spec = out_dir / SPEC_FILE
    if resume:
        if not spec.is_file():
            raise CalibrationDirError(f"{out_dir} holds no calibration to resume")
        try:
            found = json.loads(spec.read_text(encoding="utf-8")).get("fingerprint")
        except (OSError, ValueError) as exc:
            raise CalibrationDirError(f"{spec} cannot be read: {exc}") from None
        if found != cal.fingerprint():
            raise CalibrationDirError(
                f"{out_dir} holds a different calibration (its base, targets, parameters, seed "
                "or replications differ); use another --out"
            )
        return
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise CalibrationDirError(
            f"{out_dir} already exists; add --resume to continue it, or choose another --out"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = {"name": cal.name, "fingerprint": cal.fingerprint(), "file": str(cal.path or "")}
    write_file_atomically(spec, lambda tmp: tmp.write_text(json.dumps(doc, indent=2) + "\n"))


def storage(out_dir: Path) -> Any:
    """The study's storage: optuna's RDB storage on ``out_dir/study.db`` (SQLite)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.storages.RDBStorage(
        f"sqlite:///{(out_dir / DATABASE).resolve()}",
        engine_kwargs={"connect_args": {"timeout": 60}},
    )


def load_study(store: Any, seed: int | None = None) -> Any:
    """The study in ``store`` (created if new), with a TPE sampler seeded by ``seed``."""
    import optuna

    sampler = None
    if seed is not None:
        sampler = optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=8, multivariate=True, constant_liar=True
        )
    return optuna.create_study(
        study_name=STUDY, storage=store, direction="minimize", sampler=sampler,
        load_if_exists=True,
    )  # fmt: skip


def counted(trial: Any) -> bool:
    """Whether a trial is finished work: scored, or run and found to leave a target
    undefined (an interrupted trial is neither, and is proposed again)."""
    from optuna.trial import TrialState

    return trial.state == TrialState.COMPLETE or (
        trial.state == TrialState.FAIL and trial.user_attrs.get(UNDEFINED, False)
    )


def run_search(
    cal: Calibration,
    out_dir: Path,
    *,
    workers: int = 1,
    scheduler: Any = None,
    resume: bool = False,
    progress: Progress | None = None,
) -> SearchOutcome:
    """Run (or resume) the search in ``out_dir`` until ``cal.trials`` trials are finished."""
    from optuna.trial import TrialState

    open_directory(cal, out_dir, resume)
    store = storage(out_dir)
    study = load_study(store)
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(t.number, state=TrialState.FAIL)  # stopped mid-trial: proposed again
    ran = 0
    with Runner(workers, scheduler) as runner:
        while True:
            done = sum(counted(t) for t in study.get_trials(deepcopy=False))
            if progress is not None:
                progress(done, cal.trials)
            if done >= cal.trials:
                break
            seed = zlib.crc32(f"{cal.seed}:{done}".encode())
            study = load_study(store, seed)
            batch = [study.ask() for _ in range(min(cal.batch, cal.trials - done))]
            values = {t.number: {p.key: suggest(t, p) for p in cal.parameters} for t in batch}
            tasks: list[Task] = [
                ((t.number, r), replicate, (cal.scenario(values[t.number]), cal.seed, r))
                for t in batch
                for r in range(cal.replications)
            ]
            rows: dict[int, list[list[Row]]] = {t.number: [] for t in batch}
            for (number, _), result in runner.run(tasks):
                rows[number].append(result)
            for t in batch:  # in trial order, whatever order the units finished in
                figures = pooled(rows[t.number])
                score = cal.objective(figures)
                t.set_user_attr("figures", {k: _json_float(v) for k, v in figures.items()})
                if math.isfinite(score):
                    study.tell(t, score)
                else:
                    t.set_user_attr(UNDEFINED, True)
                    study.tell(t, state=TrialState.FAIL)
                ran += 1
    if not any(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)):
        raise CalibrationDirError(
            "no trial could be scored: a target's metric was undefined in every trial (is the "
            "horizon long enough for it?)"
        )
    best = study.best_trial
    return SearchOutcome(out_dir, done, ran, dict(best.params), float(best.value))


def _json_float(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def trial_values(study: Any, cal: Calibration) -> list[dict[str, Any]]:
    """Every scored trial: number, objective, parameter values and figures of the targets."""
    from optuna.trial import TrialState

    out = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        figures: Mapping[str, Any] = t.user_attrs.get("figures", {})
        row: dict[str, Any] = {"trial": t.number, "objective": t.value}
        row.update({p.key: t.params.get(p.key) for p in cal.parameters})
        row.update({f"sim:{g.metric}": figures.get(g.metric) for g in cal.targets})
        out.append(row)
    return out
