"""``overdue report DIR``: one self-contained HTML file for a compliance or risk committee.

Reads a run, replication/comparison, sweep or calibration directory (never the engine) and
writes ``DIR/report.html``: provenance (scenario hash, seed, package version, commit),
headline figures (with 95% CIs where there are replications; a single run says it has none),
the charts embedded as PNG (no network needed to open it), the money, harm and staffing
tables, and for a traced run the compliance audit recomputed from the event trace
(:mod:`sim.results.audit`). The page is rendered with Jinja2 from ``template.html.j2``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

import sim
from sim.results import metrics
from sim.results.report import format_metric

REPORT = "report.html"
TEMPLATE = "template.html.j2"


class ReportError(ValueError):
    """The directory is not one ``overdue report`` can read (the message says why)."""


@dataclass
class Report:
    """What the page shows, section by section."""

    title: str
    kind: str
    provenance: list[tuple[str, str]]
    headline: pd.DataFrame | None = None
    headline_note: str = ""
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    charts: list[tuple[str, str]] = field(default_factory=list)  # (title, base64 PNG)
    compliance: pd.DataFrame | None = None
    compliance_note: str = ""
    notes: list[str] = field(default_factory=list)


def _png(fig: Any) -> str:
    """A matplotlib figure as base64 PNG, drawn under the project's style."""
    from sim.plots.style import style

    buf = io.BytesIO()
    with style():
        fig.savefig(buf, format="png", metadata={})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _file_png(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def _digest(doc: Any) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def _commit() -> str:
    from sim.experiments.provenance import git_commit

    commit, dirty = git_commit()
    if commit is None:
        return "unknown (not a git checkout)"
    return commit[:12] + (" (uncommitted changes)" if dirty else "")


def _headline_from_summary(summary: dict[str, Any]) -> pd.DataFrame:
    values = summary.get("headline") or metrics.headline(summary)
    first = {name: i for i, name in enumerate(metrics.DECISION)}
    rows = []
    for m in sorted(metrics.for_summary(summary), key=lambda m: first.get(m.name, len(first))):
        if m.name.startswith("funnel.") and m.name != "funnel.emergency_contact":
            continue
        rows.append({"figure": m.label, "value": format_metric(values.get(m.name), m.unit)})
    return pd.DataFrame(rows)


def _estimates(table: pd.DataFrame) -> pd.DataFrame:
    """Estimates (and differences) with their 95% CIs, decision figures first."""
    first = {name: i for i, name in enumerate(metrics.DECISION)}
    t = table.assign(_o=table["metric"].map(lambda m: first.get(m, len(first))))
    t = t.sort_values("_o", kind="stable")
    out = pd.DataFrame(
        {
            "figure": t["metric"].map(metrics.label),
            "policy": t["scenario"],
            "estimate": [
                format_metric(v, u) for v, u in zip(t["estimate"], t["unit"], strict=True)
            ],
            "95% CI": [
                f"{format_metric(lo, u)} to {format_metric(hi, u)}"
                if pd.notna(lo)
                else "n/a (one replication)"
                for lo, hi, u in zip(t["ci_low"], t["ci_high"], t["unit"], strict=True)
            ],
        }
    )
    if "diff" in t:
        out["difference vs champion (95% CI)"] = [
            "" if pd.isna(d) else f"{d:+.4g} ({lo:+.4g} to {hi:+.4g})" + (" *" if s else "")
            for d, lo, hi, s in zip(
                t["diff"],
                t["diff_low"],
                t["diff_high"],
                t["significant"].fillna(False),
                strict=True,
            )
        ]
    return out


def _run(directory: Path) -> Report:
    from sim.plots.files import run_charts
    from sim.results import audit, rundir

    run = rundir.read_run(directory)
    s = run["summary"]
    sc = s["scenario"]
    rep = Report(
        title=f"Run: {sc.get('name', directory.name)}",
        kind="run",
        provenance=[
            ("scenario", f"{sc.get('name')} — {sc.get('description', '').strip()[:200]}"),
            ("scenario hash", _digest(sc)),
            ("seed", str(s.get("seed"))),
            ("borrowers, horizon", f"{s['borrowers']:,} borrowers, {s['horizon_days']:g} days"),
            ("package version", str(s.get("package_version"))),
            ("report made with commit", _commit()),
            ("directory", str(directory.resolve())),
        ],
        headline=_headline_from_summary(s),
        headline_note="One replication: these figures have no confidence interval. For "
        "intervals run `overdue run SCENARIO --reps 30` (or `overdue compare`); a CI covers "
        "the simulation's noise, not the model's own assumptions.",
    )
    money = s["money"]
    rep.tables.append(("Money (yuan)", pd.DataFrame(
        [(k.replace("_", " "), f"{money[k]:,.0f}") for k in (
            "principal", "fees_charged", "amount_due", "recovered", "written_off",
            "open_balance", "waived", "cost_total", "net_recovery") if k in money],
        columns=["item", "yuan"])))  # fmt: skip
    costs = s.get("costs", {})
    if costs:
        rep.tables.append(("Cost by channel (yuan)", pd.DataFrame(
            [(k, f"{v:,.0f}") for k, v in costs.items() if k != "total"],
            columns=["channel", "yuan"])))  # fmt: skip
    harm = s["harm"]
    rep.tables.append(("Harm", pd.DataFrame([
        ("complaints", f"{harm['complaints']:,}"),
        ("complaints per 1,000 borrowers", f"{harm['complaints_per_1000']:.1f}"),
        ("third-party contacts (answered)", f"{harm['third_party_contacts']:,}"),
        ("third-party disclosures of the debt", f"{harm['third_party_disclosures']:,}"),
        ("calls to emergency contacts", f"{harm['contact_calls']:,}"),
        ("calls per borrower", f"{harm['calls_per_borrower']:.1f}"),
        *((f"complaints: {k.replace('_', ' ')}", f"{v:,}")
          for k, v in (harm.get("complaints_by_cause") or {}).items()),
    ], columns=["figure", "value"])))  # fmt: skip
    talks = s.get("conversations", {})
    if talks:
        rows = [(k.replace("_", " "), _plain(v)) for k, v in talks.items()
                if not isinstance(v, (dict, list))]  # fmt: skip
        rep.tables.append(("Conversations: promises and help granted", pd.DataFrame(
            rows, columns=["figure", "value"])))  # fmt: skip
    agents = s.get("agents", {})
    if agents:
        rows = [(k.replace("_", " "), _plain(v)) for k, v in agents.items()
                if not isinstance(v, (dict, list))]  # fmt: skip
        rep.tables.append(("Staffing", pd.DataFrame(rows, columns=["figure", "value"])))
    for name, draw in run_charts(run).items():
        rep.charts.append((name.replace("_", " "), _png(draw())))
    if run["events"] is None:
        rep.compliance_note = (
            "No event trace in this run directory, so the compliance audit cannot be computed "
            "independently of the engine. Run again with `--trace` (for example `overdue run "
            "SCENARIO --trace --out DIR`) and make the report again."
        )
    else:
        rep.compliance = audit.table(audit.audit(run["events"], sc))
        rep.compliance_note = (
            "Recomputed from the event trace alone (events.parquet), not from the engine's "
            "counters: each rule the scenario sets, the events or borrower-days examined, the "
            "breaches, and the borrower with the most. Rules the scenario does not set report "
            "their figure without breaches."
        )
    return rep


def _plain(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}"
    return str(v)  # the table escapes it


def _replications(directory: Path, manifest: dict[str, Any]) -> Report:
    from sim.plots.files import comparison_charts
    from sim.results.comparison import read_results

    results = read_results(directory)
    table = results.get("comparison", results.get("estimates"))
    if table is None:
        raise ReportError(f"{directory} has no comparison or estimates table")
    names = ", ".join(s.get("name", "?") for s in manifest.get("scenarios", []))
    rep = Report(
        title=f"{manifest.get('kind', 'replications').capitalize()}: {names}",
        kind=str(manifest.get("kind")),
        provenance=_manifest_provenance(manifest, directory),
        headline=_estimates(table),
        headline_note="Estimates pooled over replications with 95% confidence intervals "
        "(a ratio estimator for shares); differences are paired over common random numbers, "
        "* when the CI excludes 0. A CI covers the simulation's noise, not the model's "
        "assumptions.",
    )
    for name, draw in comparison_charts(table).items():
        rep.charts.append((name.replace("_", " "), _png(draw())))
    rep.compliance_note = (
        "Replication directories keep no event trace: audit a traced run of each policy "
        "(`overdue run SCENARIO --trace`) with `overdue report`."
    )
    return rep


def _manifest_provenance(manifest: dict[str, Any], directory: Path) -> list[tuple[str, str]]:
    keep = ("kind", "name", "seed", "replications", "reps", "points", "units",
            "package_version", "git_commit", "fingerprint")  # fmt: skip
    rows = [(k.replace("_", " "), str(manifest[k])) for k in keep if k in manifest]
    for s in manifest.get("scenarios", []):
        if isinstance(s, dict) and "scenario" in s:
            rows.append((f"scenario hash ({s.get('name')})", _digest(s["scenario"])))
    rows += [("report made with commit", _commit()), ("directory", str(directory.resolve()))]
    return rows


def _sweep(directory: Path, manifest: dict[str, Any]) -> Report:
    rep = Report(
        title=f"Sweep: {manifest.get('name')}",
        kind="sweep",
        provenance=_manifest_provenance(manifest, directory)
        + [("base scenario hash", _digest(manifest.get("base_scenario", {})))],
    )
    report_dir = directory / "report"
    if not (report_dir / "points.csv").is_file():
        rep.notes.append("No sweep report yet: run `overdue sweep-report DIR` first.")
    else:
        rep.headline = pd.read_csv(report_dir / "points.csv").round(4)
        rep.headline_note = "Each design point's metrics with 95% CIs over its replications."
        for name in ("marginal.csv", "turning_points.csv", "pareto.csv"):
            if (report_dir / name).is_file():
                rep.tables.append((name.removesuffix(".csv").replace("_", " "),
                                   pd.read_csv(report_dir / name).round(4)))  # fmt: skip
        for png in sorted(report_dir.rglob("*.png")):
            rep.charts.append((png.stem.replace("_", " "), _file_png(png)))
    rep.compliance_note = "Sweeps keep no event trace; audit a traced run of a design point."
    return rep


def _calibration(directory: Path) -> Report:
    doc = json.loads((directory / "calibration.json").read_text(encoding="utf-8"))
    rep = Report(
        title=f"Calibration: {doc.get('name')}",
        kind="calibration",
        provenance=[
            ("calibration", str(doc.get("name"))),
            ("file", str(doc.get("file"))),
            ("fingerprint", str(doc.get("fingerprint"))),
            ("package version", sim.__version__),
            ("report made with commit", _commit()),
            ("directory", str(directory.resolve())),
        ],  # fmt: skip
    )
    if (directory / "fit.csv").is_file():
        rep.headline = pd.read_csv(directory / "fit.csv").round(4)
        rep.headline_note = (
            "Each target against the fitted scenario's figure and its 95% CI over the final "
            "replications; the CI covers simulation noise, not the fitted values' own "
            "uncertainty (see identifiability) nor the model's assumptions."
        )
    for name in ("identifiability.csv", "trials.csv"):
        if (directory / name).is_file():
            rep.tables.append((name.removesuffix(".csv"),
                               pd.read_csv(directory / name).round(4)))  # fmt: skip
    if (directory / "calibrated.toml").is_file():
        rep.notes.append((directory / "calibrated.toml").read_text(encoding="utf-8"))
    for png in sorted((directory / "plots").glob("*.png")):
        rep.charts.append((png.stem.replace("_", " "), _file_png(png)))
    rep.compliance_note = "A calibration keeps no event trace."
    return rep


def build(directory: Path) -> Report:
    """The report of ``directory`` (whatever kind of output it is)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ReportError(f"{directory} is not a directory")
    if (directory / "summary.json").is_file():
        return _run(directory)
    if (directory / "calibration.json").is_file():
        return _calibration(directory)
    manifest_path = directory / "manifest.json"
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("kind") == "sweep":
            return _sweep(directory, manifest)
        return _replications(directory, manifest)
    raise ReportError(
        f"{directory} is not a run, compare, sweep or calibration directory (no summary.json, "
        "manifest.json or calibration.json)"
    )


def render(rep: Report) -> str:
    """The page as HTML (one file: styles inline, charts as data URIs)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sim.report", "."),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )

    def frame(df: pd.DataFrame | None) -> str:
        if df is None or df.empty:
            return ""
        shown = df.astype(object).where(df.notna(), "")
        return shown.to_html(index=False, border=0, classes="t", escape=True)

    return env.get_template(TEMPLATE).render(r=rep, frame=frame, version=sim.__version__)


def write(directory: Path, out: Path | None = None) -> Path:
    """Build, render and write the report atomically; returns its path."""
    from sim.results.rundir import write_file_atomically

    rep = build(directory)
    path = Path(out) if out is not None else Path(directory) / REPORT
    text = render(rep)
    write_file_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path
