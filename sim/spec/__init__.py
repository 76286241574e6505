"""The specification: inert, validated descriptions of what to simulate.

A :class:`Scenario` describes a population (:mod:`~sim.spec.population`) and a collections
ladder (:mod:`~sim.spec.ladder`) with contact rules, agents, fees, costs and repayment
behaviour (:mod:`~sim.spec.scenario`); it runs nothing. Every key is declared once with
:func:`~sim.spec.params.param` (default, unit, allowed range, source), which serves
validation and error messages (:mod:`~sim.spec.loading`) and the generated reference
(``docs/scenario_reference.md``, :mod:`~sim.spec.reference`).
"""

from sim.spec.ladder import LADDER_EXTENSIONS, Ladder
from sim.spec.loading import (
    base_scenario,
    build_scenario,
    check_keys,
    flatten,
    load_scenario,
    plain_copy,
    read_toml,
    set_path,
    to_dict,
    whole_number,
    with_overrides,
)
from sim.spec.params import ScenarioError
from sim.spec.population import Population, Relationship, Segment
from sim.spec.scenario import Agents, Behaviour, Costs, Fees, Rules, Scenario

__all__ = [
    "base_scenario",
    "whole_number",
    "check_keys",
    "read_toml",
    "plain_copy",
    "flatten",
    "LADDER_EXTENSIONS",
    "Agents",
    "Behaviour",
    "Costs",
    "Fees",
    "Ladder",
    "Population",
    "Relationship",
    "Rules",
    "Scenario",
    "ScenarioError",
    "Segment",
    "build_scenario",
    "load_scenario",
    "set_path",
    "to_dict",
    "with_overrides",
]
