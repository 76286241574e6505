"""Compiled engine modules (sim._accel): used only while they match their source, and
they give exactly the results of the pure-Python code."""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim import _accel

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]
ROOT = Path(__file__).resolve().parents[1]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _package(tmp_path: Path) -> Path:
    """A package with modules a and b, each with a (fake) compiled twin, and an extension
    c with no source."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name in ("a", "b"):
        (pkg / f"{name}.py").write_text(f"VALUE = {name!r}\n")
        (pkg / f"{name}{SUFFIX}").write_bytes(b"not a shared library")
    (pkg / f"c{SUFFIX}").write_bytes(b"not a shared library")
    return pkg


def test_a_module_edited_since_the_build_is_stale(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    manifest = {"a": _sha(pkg / "a.py"), "b": "0" * 64}
    (pkg / _accel.MANIFEST).write_text(json.dumps(manifest))
    assert _accel.compiled_names(pkg) == {"a", "b"}  # c has no source: not ours to judge
    assert _accel.stale_names(pkg) == {"b"}
    assert _accel.stale_names(pkg, pure=True) == {"a", "b"}
    (pkg / "a.py").write_text("VALUE = 'edited'\n")
    assert _accel.stale_names(pkg) == {"a", "b"}


def test_the_benchmark_says_how_the_engine_runs(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    (pkg / _accel.MANIFEST).write_text(json.dumps({"a": _sha(pkg / "a.py"), "b": "0" * 64}))
    assert _accel.describe(pkg, pure=False).startswith("partly compiled: 1 of 2 modules")
    assert "(b)" in _accel.describe(pkg, pure=False)
    assert _accel.describe(pkg, pure=True).startswith("pure Python (OVERDUE_PURE_PYTHON=1")
    (pkg / _accel.MANIFEST).write_text(json.dumps({n: _sha(pkg / f"{n}.py") for n in "ab"}))
    assert _accel.describe(pkg, pure=False) == "compiled (2 modules)"
    (tmp_path / "plain").mkdir()
    assert _accel.describe(tmp_path / "plain", pure=False).startswith("pure Python (no compiled")


def test_without_a_build_record_every_compiled_module_is_stale(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    assert _accel.stale_names(pkg) == {"a", "b"}
    (pkg / _accel.MANIFEST).write_text("{not json")
    assert _accel.stale_names(pkg) == {"a", "b"}


def test_a_stale_module_loads_from_its_source(tmp_path: Path, monkeypatch) -> None:
    """The fake extension cannot load; Python picks it over the .py unless the finder
    steps in."""
    pkg = _package(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    with pytest.raises(ImportError):
        importlib.import_module("pkg.a")
    finder = _accel._SourceFinder("pkg", pkg, {"a"})
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    module = importlib.import_module("pkg.a")
    assert module.VALUE == "a"
    assert module.__file__ == str(pkg / "a.py")
    for name in ("pkg", "pkg.a"):
        sys.modules.pop(name, None)


FINGERPRINT = """
import hashlib, json
import pandas as pd
from sim._accel import compiled_modules
from sim.engine.core import simulate
from sim.spec import load_scenario
h = hashlib.sha256()
for name in ("baseline", "regulated"):
    sc = load_scenario(f"scenarios/{name}.toml", {"population.borrowers": 1500, "seed": 5})
    r = simulate(sc, trace=True)
    for df in (r.outcomes, r.monthly, r.daily, r.events):
        h.update(pd.util.hash_pandas_object(df, index=True).values.tobytes())
    h.update(json.dumps([r.costs, r.recovered_by_channel], sort_keys=True).encode())
print(json.dumps({"hash": h.hexdigest(), "compiled": compiled_modules()}))
"""


def _fingerprint(pure: bool) -> dict:
    env = dict(os.environ, **{_accel.PURE_ENV: "1" if pure else "0"})
    proc = subprocess.run(
        [sys.executable, "-c", FINGERPRINT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_compiled_and_pure_python_engines_give_identical_tables() -> None:
    """Where the engine is compiled (``pip install`` with a C compiler), it runs the same
    code: every table, cost and attribution is bit-identical to the pure-Python run."""
    pure, default = _fingerprint(pure=True), _fingerprint(pure=False)
    assert pure["compiled"] == []
    if _accel.compiled_names(_accel.PACKAGE_DIR) and not _accel.stale_names(_accel.PACKAGE_DIR):
        assert default["compiled"], "a fresh build, yet no engine module ran compiled"
    assert default["hash"] == pure["hash"], f"compiled modules: {default['compiled']}"
