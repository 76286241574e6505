"""Every promise of the command line, kept: one ``error:`` line and exit 2 for any bad input
(argparse's included), exit 1 and one line for I/O failures, nothing written by a refused
command, sweeps validated whole before anything is written, a lost worker retried."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from sim.cli import main
from sim.experiments import execution, sweep_run

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"


def _one_error_line(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: ")
    return err[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["run"],
        ["run", "x.toml", "--borrowers", "many"],
        ["frobnicate"],
        ["sweep", "x.toml", "--bogus"],
        ["compare"],
        ["calibrate"],
        ["run", "x.toml", "--days"],
    ],
)
def test_argparse_errors_are_one_line_and_exit_2(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    _one_error_line(capsys)


def _bad_file(tmp_path: Path, kind: str) -> str:
    path = tmp_path / "bad.toml"
    if kind == "not utf-8":
        path.write_bytes(b'name = "\xff\xfe"\n')
    elif kind == "directory":
        path.mkdir()
    elif kind == "empty path":
        return ""
    elif kind == "deep nesting":
        path.write_text("x = " + "[" * 500 + "\n")
    elif kind == "not toml":
        path.write_text("this is = = not toml\n")
    elif kind == "missing":
        return str(tmp_path / "missing.toml")
    return str(path)


KINDS = ["not utf-8", "directory", "empty path", "deep nesting", "not toml", "missing"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", ["run", "sweep", "calibrate", "compare"])
def test_an_unusable_input_file_is_one_error_line(
    tmp_path: Path, capsys, kind: str, command: str
) -> None:
    bad = _bad_file(tmp_path, kind)
    out = tmp_path / "out"
    argv = [command, bad, "--out", str(out), "--quiet"]
    if command == "compare":
        argv = [command, str(BASELINE), bad, "--out", str(out), "--quiet", "--reps", "2"]
    assert main(argv) == 2
    _one_error_line(capsys)
    assert not out.exists()


def _sweep_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(f'base = "{BASELINE}"\nreplications = 1\n' + body)
    return path


def test_a_toml_date_in_a_sweep_names_its_key(tmp_path: Path, capsys) -> None:
    f = _sweep_file(tmp_path, 'when = 2024-01-01\n[[parameters]]\nkey = "seed"\nvalues = [1]\n')
    out = tmp_path / "out"
    assert main(["sweep", str(f), "--out", str(out), "--quiet"]) == 2
    assert "when: a date" in _one_error_line(capsys)
    assert not out.exists()


def test_a_grid_invalid_only_in_combination_fails_before_writing_and_names_the_point(
    tmp_path: Path, capsys
) -> None:
    body = (
        '[[parameters]]\nkey = "rules.call_start"\nvalues = [8, 12]\n'
        '[[parameters]]\nkey = "rules.call_end"\nvalues = [10, 22]\n'
    )
    f = _sweep_file(tmp_path, body)
    out = tmp_path / "out"
    argv = ["sweep", str(f), "--out", str(out), "--quiet", "--borrowers", "100", "--days", "10"]
    assert main(argv) == 2
    line = _one_error_line(capsys)
    assert "design point 2 (rules.call_start=12, rules.call_end=10)" in line
    assert not out.exists() and not list(tmp_path.glob(".out.*"))
    f.write_text(f.read_text().replace("values = [10, 22]", "values = [13, 22]"))
    assert main(argv) == 0  # the corrected sweep runs in the same --out


def test_a_design_too_large_for_memory_is_refused_when_read(tmp_path: Path, capsys) -> None:
    body = "".join(
        f'[[parameters]]\nkey = "{k}"\nlow = 1\nhigh = 100\nnum = 1000\n'
        for k in ("seed", "days", "population.borrowers")
    )
    out = tmp_path / "out"
    assert main(["sweep", str(_sweep_file(tmp_path, body)), "--out", str(out)]) == 2
    assert "too large" in _one_error_line(capsys)


def test_out_inside_a_file_is_refused(tmp_path: Path, capsys) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    f = _sweep_file(tmp_path, '[[parameters]]\nkey = "seed"\nvalues = [1]\n')
    assert main(["sweep", str(f), "--out", str(a_file / "sub"), "--quiet"]) == 2
    assert "is a file" in _one_error_line(capsys)


def test_a_full_disk_is_one_line_and_exit_1(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "units"))

    monkeypatch.setattr(sweep_run.SweepStore, "write_unit", full)
    f = _sweep_file(tmp_path, '[[parameters]]\nkey = "seed"\nvalues = [1]\n')
    argv = ["sweep", str(f), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1",
            "--borrowers", "50", "--days", "10"]  # fmt: skip
    assert main(argv) == 1
    assert "No space left on device" in _one_error_line(capsys)


def test_a_leftover_of_a_killed_sweep_creation_does_not_block_a_new_sweep(
    tmp_path: Path,
) -> None:
    """A sweep directory is created whole (renamed into place with its manifest); what a
    kill -9 during the creation leaves is a hidden temporary, cleared by the next sweep."""
    out = tmp_path / "out"
    dead = tmp_path / ".out.tmp-999999999"
    (dead / "units").mkdir(parents=True)
    f = _sweep_file(tmp_path, '[[parameters]]\nkey = "seed"\nvalues = [1]\n')
    argv = ["sweep", str(f), "--out", str(out), "--quiet", "--workers", "1",
            "--borrowers", "50", "--days", "10"]  # fmt: skip
    assert main(argv) == 0
    assert not dead.exists()
    assert (out / "manifest.json").is_file()


def _dies_once(marker: str, value: int) -> int:
    """A unit whose first attempt kills its worker process."""
    path = Path(marker)
    if not path.exists():
        path.write_text("died")
        os._exit(1)
    return value * 2


def test_a_dead_worker_is_replaced_and_its_units_rerun(tmp_path: Path) -> None:
    tasks = [(i, _dies_once, (str(tmp_path / "marker"), i)) for i in range(6)]
    with execution.Runner(2) as runner:
        results = dict(runner.run(tasks))
    assert results == {i: 2 * i for i in range(6)}


def _always_dies() -> None:
    os._exit(1)


def test_workers_that_keep_dying_give_a_clear_error() -> None:
    with (
        execution.Runner(2) as runner,
        pytest.raises(execution.WorkerLost, match="died 4 times"),
    ):
        list(runner.run([(0, _always_dies, ()), (1, _always_dies, ())]))  # two: in workers
