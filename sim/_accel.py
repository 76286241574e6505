"""Compiled engine modules, used only while they match their source.

``pip install`` compiles the engine's modules with Cython when it can (``setup.py``) and
records in ``_compiled.json`` the hash of each module's source (its ``.py`` and its ``.pxd``,
:func:`source_hash`). Python would import a compiled module in preference to its ``.py`` even
after the ``.py`` was edited, silently running old code. So :func:`install` (run by ``import
sim``, before any engine module is imported) checks each compiled module against its source,
and if any was edited since the build, or ``OVERDUE_PURE_PYTHON=1``, makes every compiled
module load from its ``.py``: the compiled modules share typed classes (``account.pxd``'s
``Borrower``), so one cannot run beside the source version of another. Results are the same
either way (tested); only the speed differs.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

PACKAGE_DIR = Path(__file__).resolve().parent
MANIFEST = "_compiled.json"
PURE_ENV = "OVERDUE_PURE_PYTHON"


def _module_name(package_dir: Path, path: Path, suffix: str) -> str:
    """Dotted module name of ``path`` relative to the package (``engine.core``)."""
    rel = path.relative_to(package_dir)
    return ".".join((*rel.parts[:-1], rel.name[: -len(suffix)]))


def _source(package_dir: Path, name: str) -> Path:
    return package_dir.joinpath(*name.split(".")).with_suffix(".py")


def compiled_names(package_dir: Path) -> set[str]:
    """Modules of the package (sub-packages included, as dotted names relative to it, e.g.
    ``engine.core``) that have a compiled extension next to their ``.py``."""
    names = set()
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        for path in package_dir.rglob(f"*{suffix}"):
            name = _module_name(package_dir, path, suffix)
            if _source(package_dir, name).exists():
                names.add(name)
    return names


def source_hash(py: Path) -> str:
    """SHA-256 of a module's source: its ``.py`` and, if there is one, its ``.pxd`` (the
    declarations Cython compiled it with). ``setup.py`` records it for each module built."""
    digest = hashlib.sha256(py.read_bytes())
    pxd = py.with_suffix(".pxd")
    if pxd.exists():
        digest.update(b"\0" + pxd.read_bytes())
    return digest.hexdigest()


def edited_names(package_dir: Path) -> set[str]:
    """Compiled modules whose source changed since the build (or with no record of it)."""
    try:
        built = json.loads((package_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        built = {}
    return {
        name
        for name in compiled_names(package_dir)
        if built.get(name) != source_hash(_source(package_dir, name))
    }


def stale_names(package_dir: Path, pure: bool = False) -> set[str]:
    """Compiled modules that must load from source: all of them if any was edited since the
    build (see the module docstring) or if ``pure``; none otherwise."""
    names = compiled_names(package_dir)
    return names if pure or edited_names(package_dir) else set()


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds the listed modules of the package as source files, ahead of the path finder."""

    def __init__(self, package: str, package_dir: Path, names: set[str]) -> None:
        self.modules = {f"{package}.{name}": _source(package_dir, name) for name in names}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        source = self.modules.get(fullname)
        if source is None:
            return None
        return importlib.util.spec_from_file_location(fullname, source)


def install() -> None:
    """Make every compiled module of ``sim`` load from source if any is stale, or under
    ``OVERDUE_PURE_PYTHON=1`` (see the module docstring). Idempotent."""
    if any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        return
    pure = os.environ.get(PURE_ENV, "") not in ("", "0")
    names = stale_names(PACKAGE_DIR, pure)
    if names:
        sys.meta_path.insert(0, _SourceFinder(__package__ or "sim", PACKAGE_DIR, names))


def compiled_modules() -> list[str]:
    """Engine modules imported so far that run compiled (for reports and the benchmark)."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return sorted(
        name
        for name, module in list(sys.modules.items())
        if name.startswith("sim.") and str(getattr(module, "__file__", "")).endswith(suffixes)
    )


def describe(package_dir: Path = PACKAGE_DIR, pure: bool | None = None) -> str:
    """How the engine runs, in a line (the benchmark prints it): compiled, or pure Python and
    why (no build, ``OVERDUE_PURE_PYTHON``, or the modules edited since the build, named).
    ``pure`` defaults to the environment's ``OVERDUE_PURE_PYTHON``."""
    if pure is None:
        pure = os.environ.get(PURE_ENV, "") not in ("", "0")
    built = compiled_names(package_dir)
    if not built:
        return "pure Python (no compiled modules: no C compiler at install?)"
    if pure:
        return f"pure Python ({PURE_ENV}=1; {len(built)} compiled modules unused)"
    edited = edited_names(package_dir)
    if not edited:
        return f"compiled ({len(built)} modules)"
    return (
        f"pure Python: {len(edited)} of {len(built)} compiled modules edited since the build "
        f"({', '.join(sorted(edited))}); reinstall (make) to compile them"
    )
