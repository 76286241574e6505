"""Fuzz: hundreds of mutated scenario and sweep files give a clean error or a valid run,
never a traceback. Mutations are drawn from a seeded generator, so a failure reproduces."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sim.cli import main
from sim.experiments.designs import design_points
from sim.experiments.sweep import load_sweep
from sim.experiments.sweep_run import point_scenarios
from sim.spec.params import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
SWEEPS = sorted((ROOT / "scenarios" / "sweeps").glob("*.toml"))

VALUES = [
    "-1", "0", "1", "1e308", "-1e308", "nan", "inf", "-inf", "true", '"x"', '""', "[]",
    '[1, "a"]', "{ a = 1 }", "2024-01-01", "12:30:00", "99999999999999999999", "1.5",
    "0.5", "[0.1, 0.2]", "[[1]]", '"day"', '"never"', "3", "100", "-0.0",
]  # fmt: skip


def mutate(text: str, rng: random.Random) -> bytes:
    """One or two random edits of a TOML file (a number scaled, a value replaced, a key
    misspelt, a line dropped or doubled, deep nesting, a table added), sometimes garbage
    bytes or a truncation."""
    lines = text.splitlines()
    for _ in range(rng.randint(1, 2)):
        assigned = [i for i, line in enumerate(lines) if "=" in line and not line.startswith("#")]
        kind = rng.choice(["scale", "scale", "scale", "scale", "value", "value", "key", "drop",
                           "double", "nest", "table"])  # fmt: skip
        if kind == "scale" and assigned:  # a plausible edit: a number moved by a factor
            i = rng.choice(assigned)
            key, rest = lines[i].split("=", 1)
            value = rest.split("#")[0].strip()
            try:
                number = float(value)
            except ValueError:
                continue
            factor = rng.choice([0.0, 0.5, 0.9, 1.1, 2.0, 10.0])
            new = number * factor
            lines[i] = f"{key}= {int(new) if value.lstrip('-').isdigit() else new!r}"
        elif kind == "value" and assigned:
            i = rng.choice(assigned)
            key = lines[i].split("=", 1)[0]
            lines[i] = f"{key}= {rng.choice(VALUES)}"
        elif kind == "key" and assigned:
            i = rng.choice(assigned)
            key, rest = lines[i].split("=", 1)
            pos = rng.randrange(max(1, len(key.strip())))
            k = key.strip()
            lines[i] = f"{k[:pos]}{rng.choice('xz_')}{k[pos:]} ={rest}"
        elif kind == "drop" and lines:
            del lines[rng.randrange(len(lines))]
        elif kind == "double" and lines:
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
        elif kind == "nest":
            lines.append("deep = " + "[" * rng.randint(50, 800))
        elif kind == "table":
            lines.append(rng.choice(["[ladder.bogus]", "[population.segments.forgetfull]",
                                     "[agents]", "[[parameters]]", "[ladder.sms]"]))  # fmt: skip
            lines.append(f"weight = {rng.choice(VALUES)}")
    data = "\n".join(lines).encode()
    if rng.random() < 0.08:
        pos = rng.randrange(len(data) + 1)
        data = data[:pos] + bytes(rng.randrange(256) for _ in range(3)) + data[pos:]
    if rng.random() < 0.05:
        data = data[: rng.randrange(len(data) + 1)]
    return data


@pytest.mark.parametrize("seed", range(4))
def test_mutated_scenarios_run_or_fail_cleanly(tmp_path: Path, capsys, seed: int) -> None:
    """60 mutated scenario files per seed (240 in all) through ``overdue run``: exit 0, or
    exit 2 with one ``error:`` line; never a traceback, never exit 1."""
    rng = random.Random(seed)
    for case in range(60):
        source = rng.choice(SCENARIOS)
        path = tmp_path / f"s{case}.toml"
        path.write_bytes(mutate(source.read_text(), rng))
        out = tmp_path / f"out{case}"
        argv = ["run", str(path), "--borrowers", "20", "--days", "12", "--out", str(out),
                "--quiet"]  # fmt: skip
        code = main(argv)
        err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        errors = [line for line in err if not line.startswith("warning: ")]
        context = f"seed {seed} case {case} ({source.name}): {path.read_bytes()!r}"
        assert code in (0, 2), context
        if code == 2:
            assert len(errors) == 1 and errors[0].startswith("error: "), (errors, context)
            assert not out.exists(), context
        else:
            assert errors == [], (errors, context)
            assert (out / "summary.json").is_file(), context


@pytest.mark.parametrize("seed", range(2))
def test_mutated_sweeps_validate_or_fail_cleanly(tmp_path: Path, seed: int) -> None:
    """50 mutated sweep files per seed: the sweep and every design point validate, or a
    ScenarioError names what is wrong; nothing else is raised."""
    rng = random.Random(100 + seed)
    for case in range(50):
        source = rng.choice(SWEEPS)
        path = source.parent / f".fuzz-{seed}-{case}.toml"  # beside it: base paths resolve
        path.write_bytes(mutate(source.read_text(), rng))
        try:
            sweep = load_sweep(path)
            point_scenarios(sweep, design_points(sweep))
        except ScenarioError as exc:
            assert str(exc).strip() and "\n" not in str(exc).strip()
        finally:
            path.unlink()
