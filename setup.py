"""Build hook: compile the engine's modules with Cython, when a C compiler is available.

The modules are compiled from their own ``.py`` source (no separate ``.pyx``), with the type
declarations of their ``.pxd`` where they have one (the account and the dialer as typed
extension classes) and of their ``cython.locals`` decorators: the same code, run as C, with
identical results (tested); ``make bench`` gives the speed. Each extension is optional:
without a compiler the package installs as pure Python.

Next to the compiled modules the build writes ``_compiled.json``: the hash of the source of
each module it built (:func:`sim._accel.source_hash`). At import :mod:`sim._accel` uses the
compiled modules only while no source changed; after an edit the engine runs from its
``.py`` files until the next ``pip install -e .`` (``make`` runs it when an engine source is
newer than the install).
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
# sim/_accel.py loaded alone (stdlib only), not through the package: its source_hash is the
# one the import guard checks against.
_spec = importlib.util.spec_from_file_location("_accel", ROOT / "sim" / "_accel.py")
_accel = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_accel)
COMPILED = sorted(
    ".".join(p.relative_to(ROOT / "sim").with_suffix("").parts)
    for p in (ROOT / "sim" / "engine").rglob("*.py")
    if p.name != "__init__.py"
)
"""The engine's modules (``engine.core``, ``engine.rungs.calls``, ...): the event loop and
everything it calls on every step. They cimport each other's typed classes (account.pxd)."""


class BuildRecordingSources(build_ext):
    """build_ext that records, for each extension it built, the hash of its source."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if self.parallel is None:  # compile the modules side by side
            self.parallel = os.cpu_count() or 1

    def run(self) -> None:
        self.built: dict[str, str] = {}
        super().run()
        if self.extensions:
            first = self.extensions[0].name  # sim.engine.x: the manifest goes in sim/
            out = Path(self.get_ext_fullpath(first)).parents[first.count(".") - 1]
            (out / "_compiled.json").write_text(json.dumps(self.built, indent=1) + "\n")

    def build_extension(self, ext: Extension) -> None:
        super().build_extension(ext)  # an optional one that fails raises: not recorded
        name = ext.name.removeprefix("sim.")
        source = (ROOT / "sim").joinpath(*name.split(".")).with_suffix(".py")
        self.built[name] = _accel.source_hash(source)


def _extensions() -> list[Extension]:
    try:
        from Cython.Build import cythonize
    except ImportError:  # no Cython in the build environment: pure Python
        return []
    modules = [
        Extension(f"sim.{name}", [f"sim/{name.replace('.', '/')}.py"], optional=True)
        for name in COMPILED
    ]
    # annotation_typing off: type hints stay hints, so the compiled code keeps Python's
    # semantics exactly (an ``int`` hint does not reject a numpy integer, for instance).
    directives = {"language_level": 3, "annotation_typing": False}
    return cythonize(modules, compiler_directives=directives, quiet=True)


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildRecordingSources})
