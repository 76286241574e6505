"""``overdue report``: one self-contained HTML file for every kind of output directory, with
the compliance audit when the run was traced, and rendered by a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
REGULATED = str(ROOT / "scenarios" / "regulated.toml")
SMALL = ["--borrowers", "300", "--days", "40", "--quiet"]


def _page(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    # self-contained: no stylesheet, script or image fetched from anywhere
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert "<script" not in text
    return text


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "run"
    assert main(["run", REGULATED, "--trace", "--out", str(out), *SMALL]) == 0
    return out


def test_a_traced_run_reports_provenance_figures_charts_and_the_audit(traced: Path) -> None:
    assert main(["report", str(traced)]) == 0
    page = _page(traced / "report.html")
    for text in ("Provenance", "scenario hash", "seed", "package version", "commit",
                 "30-day collection rate", "no confidence interval", "Money (yuan)", "Harm",
                 "Staffing", "Compliance", "Calls outside hours", "Contacts phoned without "
                 "consent", "Debt disclosed to third parties"):  # fmt: skip
        assert text in page, text
    assert page.count("data:image/png;base64,") >= 6


def test_an_untraced_run_says_the_audit_needs_the_trace(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["run", REGULATED, "--out", str(out), *SMALL]) == 0
    assert main(["report", str(out), "--out", str(tmp_path / "r.html")]) == 0
    assert "Run again with `--trace`" in _page(tmp_path / "r.html")


def test_a_comparison_reports_estimates_with_cis(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    argv = ["compare", str(ROOT / "scenarios" / "baseline.toml"), REGULATED, "--reps", "3",
            "--out", str(out), "--workers", "1", *SMALL]  # fmt: skip
    assert main(argv) == 0
    assert main(["report", str(out)]) == 0
    page = _page(out / "report.html")
    assert "95% CI" in page and "difference vs champion" in page and "regulated" in page


def test_a_directory_that_is_no_output_is_one_error_line(tmp_path: Path, capsys) -> None:
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: DIR:")


@pytest.mark.slow
def test_a_headless_browser_renders_the_report(traced: Path, tmp_path: Path) -> None:
    """Chromium (the system package; `make report-check` installs it) renders the page to a
    screenshot that is not blank."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no chromium on this machine (make report-check installs it)")
    assert main(["report", str(traced)]) == 0
    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--window-size=1200,3000", f"--screenshot={shot}", (traced / "report.html").as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert shot.stat().st_size > 50_000  # a page of tables and charts, not a blank one


def test_a_calibration_reports_its_fit(tmp_path: Path) -> None:
    f = tmp_path / "cal.toml"
    f.write_text(
        f'base = "{ROOT / "scenarios" / "baseline.toml"}"\nborrowers = 300\ntrials = 0\n'
        'final_replications = 2\n[targets."money.collection_rate_30d"]\nvalue = 0.85\n'
        'tolerance = 0.02\n[parameters."behaviour.decay"]\nlo = 0.5\nhi = 1.0\n'
    )
    out = tmp_path / "cal"
    assert main(["calibrate", str(f), "--out", str(out), "--quiet", "--workers", "1"]) == 0
    assert main(["report", str(out)]) == 0
    page = _page(out / "report.html")
    assert "Calibration" in page and "money.collection_rate_30d" in page
