"""Compiled engine modules (sim._accel): used only while they match their source, and
they give exactly the results of the pure-Python code."""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim import _accel

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]
ROOT = Path(__file__).resolve().parents[1]


def _sha(path: Path) -> str:
    return _accel.source_hash(path)


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


def test_one_edited_module_sends_every_compiled_module_to_source(tmp_path: Path) -> None:
    """Compiled modules share typed classes, so none runs beside an edited one's source."""
    pkg = _package(tmp_path)
    manifest = {"a": _sha(pkg / "a.py"), "b": _sha(pkg / "b.py")}
    (pkg / _accel.MANIFEST).write_text(json.dumps(manifest))
    assert _accel.compiled_names(pkg) == {"a", "b"}  # c has no source: not ours to judge
    assert _accel.edited_names(pkg) == set()
    assert _accel.stale_names(pkg) == set()
    assert _accel.stale_names(pkg, pure=True) == {"a", "b"}
    (pkg / "a.py").write_text("VALUE = 'edited'\n")
    assert _accel.edited_names(pkg) == {"a"}
    assert _accel.stale_names(pkg) == {"a", "b"}


def test_a_declarations_file_is_part_of_the_source(tmp_path: Path) -> None:
    """A .pxd changes the compiled code without touching the .py: editing it is an edit."""
    pkg = _package(tmp_path)
    (pkg / "a.pxd").write_text("cdef class A:\n    cdef public object x\n")
    (pkg / _accel.MANIFEST).write_text(json.dumps({n: _sha(pkg / f"{n}.py") for n in "ab"}))
    assert _accel.stale_names(pkg) == set()
    (pkg / "a.pxd").write_text("cdef class A:\n    cdef public object x, y\n")
    assert _accel.edited_names(pkg) == {"a"}
    assert _accel.stale_names(pkg) == {"a", "b"}


def test_the_benchmark_says_how_the_engine_runs(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    (pkg / _accel.MANIFEST).write_text(json.dumps({"a": _sha(pkg / "a.py"), "b": "0" * 64}))
    assert _accel.describe(pkg, pure=False).startswith("pure Python: 1 of 2 compiled modules")
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


ENGINE = ROOT / "sim" / "engine"


def _declared(pxd: Path) -> dict[str, set[str]]:
    """``cdef class`` name -> its ``cdef public object`` attributes, from a .pxd."""
    classes: dict[str, set[str]] = {}
    current = None
    for line in pxd.read_text().splitlines():
        if line.startswith("cdef class "):
            current = classes.setdefault(line.split()[2].split("(")[0].rstrip(":"), set())
        elif current is not None and line.strip().startswith("cdef public object "):
            current.update(a.strip() for a in line.split("object ", 1)[1].split(","))
    return classes


def _assigned(py: Path, cls: str) -> set[str]:
    """Attributes the methods of class ``cls`` in ``py`` assign on ``self``."""
    tree = ast.parse(py.read_text())
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    found = set()
    for sub in ast.walk(node):
        targets = sub.targets if isinstance(sub, ast.Assign) else [getattr(sub, "target", None)]
        for target in targets:
            for t in ast.walk(target) if target is not None else ():
                if isinstance(t, ast.Attribute) and getattr(t.value, "id", "") == "self":
                    found.add(t.attr)
    return found


@pytest.mark.parametrize("pxd", sorted(ENGINE.rglob("*.pxd")), ids=lambda p: p.stem)
def test_typed_classes_declare_exactly_the_attributes_their_python_class_has(pxd: Path) -> None:
    """A compiled class has only the attributes its .pxd declares: one its .py sets but the
    .pxd lacks would fail only when compiled, one too many would cost memory."""
    for cls, declared in _declared(pxd).items():
        py = pxd.with_suffix(".py")
        if cls == "Borrower":
            from sim.engine.account import Borrower

            assert declared == set(Borrower.__slots__)
        else:
            assert declared == _assigned(py, cls), f"{pxd.name}: {cls}"


@given(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.5, 7.0, math.inf, -1.0]), min_size=1))
def test_first_due_is_the_first_index_of_the_minimum(due: list[float]) -> None:
    """The account loop's choice of its next step (compiled: a C loop) against min/index."""
    from sim.engine.account import first_due

    assert first_due(due) == due.index(min(due))
