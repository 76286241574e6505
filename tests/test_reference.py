"""The committed scenario reference is exactly what the code generates."""

from __future__ import annotations

import dataclasses
import typing

from sim.cli import main
from sim.spec import Scenario, reference


def _all_key_paths(cls: type = Scenario, path: str = "") -> list[str]:
    """Every scalar key of Scenario, walked independently of sim.spec.reference."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        sub = f"{path}.{f.name}" if path else f.name
        if f.metadata.get("section"):
            out += _all_key_paths(hints[f.name], sub)
        elif f.metadata.get("mapping"):
            out += _all_key_paths(typing.get_args(hints[f.name])[1], f"{sub}.NAME")
        elif "extensions" in f.metadata:  # sections of registered rungs: none by default
            for name, section in f.metadata["extensions"].items():
                out += _all_key_paths(section, f"{path}.{name}")
        else:
            out.append(sub)
    return out


def test_committed_reference_is_up_to_date() -> None:
    committed = reference.DOC_PATH.read_text(encoding="utf-8")
    assert committed == reference.generate(), (
        "docs/scenario_reference.md is stale: run `python -m sim reference --write`"
    )


def test_every_key_is_documented() -> None:
    text = reference.generate()
    paths = _all_key_paths()
    assert len(paths) > 100
    missing = [p for p in paths if f"| `{p}` |" not in text]
    assert not missing
    assert sorted(reference.key_paths()) == sorted(paths)


def test_named_defaults_tables_list_every_builtin_name() -> None:
    text = reference.generate()
    s = Scenario()
    for names in (s.population.segments, s.population.contacts.relationships):
        header = "| key | " + " | ".join(f"`{n}`" for n in names) + " |"
        assert header in text


def test_reference_explains_units_merging_and_errors() -> None:
    text = reference.generate()
    for phrase in ("## Units", "DPD", "yuan", "per day", "hour", "## How a scenario is merged"):
        assert phrase in text
    assert "unknown key" in text and "exit" in text and "code 2" in text
    assert "error: ladder.emergency_contact.trigger: 'sometimes' is not allowed" in text


def test_reference_command_check_and_write(tmp_path, capsys) -> None:
    target = tmp_path / "ref.md"
    assert main(["reference", "--check", "--path", str(target)]) == 1
    assert main(["reference", "--write", "--path", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == reference.generate()
    assert main(["reference", "--check", "--path", str(target)]) == 0
    capsys.readouterr()
    assert main(["reference"]) == 0
    assert capsys.readouterr().out == reference.generate()
