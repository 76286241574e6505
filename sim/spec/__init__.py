"""The specification: inert, validated descriptions of what to simulate.

A :class:`Scenario` describes a population and a collections ladder; it runs nothing. Every
key is declared once with :func:`~sim.spec.params.param` (default, unit, allowed range,
source), which serves validation, error messages and the generated reference
(``docs/scenario_reference.md``).
"""

from sim.spec.params import ScenarioError
from sim.spec.scenario import (
    Scenario,
    build_scenario,
    load_scenario,
    set_path,
    to_dict,
    with_overrides,
)

__all__ = [
    "Scenario",
    "ScenarioError",
    "build_scenario",
    "load_scenario",
    "set_path",
    "to_dict",
    "with_overrides",
]
