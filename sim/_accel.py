"""Compiled engine modules, used only while they match their source.

``pip install`` compiles the engine's hot modules with Cython when it can (``setup.py``) and
records the SHA-256 of each source it compiled in ``_compiled.json``. Python would import a
compiled module in preference to its ``.py`` even after the ``.py`` was edited, silently
running old code. So :func:`install` (run by ``import sim``, before any engine module is
imported) checks each compiled module against its source and makes the stale ones, and all
of them when ``OVERDUE_PURE_PYTHON=1``, load from the ``.py``. Results are the same either
way (tested); only the speed differs.
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


def stale_names(package_dir: Path, pure: bool = False) -> set[str]:
    """Compiled modules that must load from source: built from a different source than the
    ``.py`` now there (or with no record of it), or every one of them if ``pure``."""
    names = compiled_names(package_dir)
    if pure:
        return names
    try:
        built = json.loads((package_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        built = {}
    return {
        name
        for name in names
        if built.get(name) != hashlib.sha256(_source(package_dir, name).read_bytes()).hexdigest()
    }


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
    """Make stale compiled modules of ``sim`` (or all, under ``OVERDUE_PURE_PYTHON=1``) load
    from source. Idempotent."""
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
    """How the engine runs, in a line (the benchmark prints it): compiled, pure Python, or
    partly, naming the modules that run from source. ``pure`` defaults to the environment's
    ``OVERDUE_PURE_PYTHON``."""
    if pure is None:
        pure = os.environ.get(PURE_ENV, "") not in ("", "0")
    built = compiled_names(package_dir)
    if not built:
        return "pure Python (no compiled modules: no C compiler at install?)"
    if pure:
        return f"pure Python ({PURE_ENV}=1; {len(built)} compiled modules unused)"
    stale = stale_names(package_dir)
    if not stale:
        return f"compiled ({len(built)} modules)"
    return (
        f"partly compiled: {len(stale)} of {len(built)} modules edited since the build run "
        f"from source ({', '.join(sorted(stale))}); reinstall (make) to compile them"
    )
