"""Scenario keys that no longer exist, and where their meaning went: the loader names the
new place in its error (:mod:`sim.spec.loading`)."""

from __future__ import annotations

RETIRED = {
    "behaviour.complaint_call_pressure": "it is complaints.call_pressure now, beside the "
    "other causes of complaints",
    "ladder.agent.plan_offer": "what agents may offer is the treatment policy now: "
    "ladder.grace, ladder.plans and ladder.waiver (enabled, from_day, to_day, ...)",
    "ladder.agent.talk_minutes": "the mean talk time is agents.talk_minutes now (with "
    "agents.wrap_minutes for after-call work); see docs/call_centre.md",
    "agents.slot_minutes": "agents are an exact queue now, with no capacity slots; see "
    "docs/call_centre.md",
}
"""Keys an older scenario file may still set, and where their meaning went."""
