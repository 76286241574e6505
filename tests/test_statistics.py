"""Statistical checks of the engine against closed-form results.

Tolerances: each check compares a share estimated from n independent borrowers with its exact
value p and allows 4 binomial standard errors, sqrt(p(1 - p)/n). For one comparison a correct
engine fails with probability 6e-5; this file makes about 25, so a false alarm is rarer than 1
run in 500 (and the seeds are fixed, so a pass is reproducible). A genuine error of the size
that matters (a rate off by 5%, a jump off by 10%) moves the shares by many SEs at n = 20,000.

Each test takes about a second (20,000 borrowers with a handful of events each), so none is
marked slow.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import scenario, seg

from sim.engine.core import simulate

N = 20_000


def _within(observed: float, p: float, n: int, k: float = 4.0) -> None:
    se = math.sqrt(p * (1 - p) / n)
    assert abs(observed - p) <= k * se, f"observed {observed:.5f}, expected {p:.5f} +- {k}*{se:.5f}"


# Everything that could make a borrower pay, other than what the test switches on, is off:
# all rungs (conftest.BASE), no self-initiated service calls, no shocks, no going dark, and
# willingness = ability = 1 exactly (medians 0 and 1 stay exact under the logit-normal).
QUIET = {
    "population.borrowers": N,
    "population.trait_spread": 0.5,
    **seg(
        willingness=1.0,
        ability=1.0,
        full_payment_prob=1.0,
        shock_prob=0.0,
        service_contact_rate=0.0,
        unreachable_at_entry=0.0,
        go_dark_rate=0.0,
        contact_jump=0.0,
        escalation_jump=0.0,
    ),
    "behaviour.aging_half_life_days": 0.0,
    "fees.late_fee_rate": 0.05,
    "fees.penalty_daily_rate": 0.002,
}


def test_self_cure_with_no_collections_is_exponential() -> None:
    """Baseline intensity lambda and nothing else: time to cure ~ Exp(lambda)."""
    lam = 0.05
    rec = simulate(scenario(QUIET, seg(base_intensity=lam), days=45), 101)
    out = rec.outcomes
    assert len(out) == N
    assert set(out["final_state"]) <= {"cured", "open"}
    ttc = (out["resolved_day"] - out["entered_day"]).to_numpy()
    for t in (5, 10, 20, 40):
        _within(np.mean(ttc <= t), 1 - math.exp(-lam * t), N)
    # nothing else happened to anyone
    assert out["n_sms"].sum() + out["n_robot_calls"].sum() + out["n_agent_calls"].sum() == 0


def test_aging_shrinks_the_baseline_intensity() -> None:
    """With half-life h the baseline decays as lambda * exp(-gamma t), gamma = ln 2 / h, so
    P(cured by t) = 1 - exp(-(lambda / gamma) (1 - exp(-gamma t)))."""
    lam, half_life = 0.05, 20.0
    gamma = math.log(2) / half_life
    sc = scenario(
        QUIET, seg(base_intensity=lam), {"behaviour.aging_half_life_days": half_life}, days=90
    )
    out = simulate(sc, 102).outcomes
    ttc = (out["resolved_day"] - out["entered_day"]).to_numpy()
    for t in (5, 20, 40, 85):
        _within(np.mean(ttc <= t), 1 - math.exp(-(lam / gamma) * (1 - math.exp(-gamma * t))), N)


@pytest.mark.parametrize(
    ("jump", "effect", "willingness", "ability", "kappa"),
    [(0.7, 1.0, 1.0, 1.0, 0.7), (1.5, 1.0, 1.0, 1.0, 0.5), (1.0, 2.0, 0.5, 0.8, 1.2)],
)
def test_one_reminder_jump_pays_with_probability_one_minus_exp_a_over_kappa(
    jump: float, effect: float, willingness: float, ability: float, kappa: float
) -> None:
    """Base 0 and a single jump a at t0 (one SMS, read for sure): the excess intensity
    a exp(-kappa s) has total mass a / kappa, so P(pay by t0 + s) =
    1 - exp(-(a / kappa)(1 - exp(-kappa s))) and P(ever) = 1 - exp(-a / kappa), with
    a = contact_jump x effect x ability x willingness."""
    t0 = 2 + 10 / 24
    sc = scenario(
        QUIET,
        seg(
            base_intensity=0.0,
            contact_jump=jump,
            sms_read=1.0,
            willingness=willingness,
            ability=ability,
        ),
        {
            "population.trait_spread": 0.0,
            "behaviour.decay": kappa,
            "ladder.sms.enabled": True,
            "ladder.sms.days": [2.0],
            "ladder.sms.hour": 10.0,
            "ladder.sms.read_factor": 1.0,
            "ladder.sms.effect": effect,
        },
        days=40,
    )
    out = simulate(sc, 103).outcomes
    a = jump * effect * ability * willingness
    t_pay = out["resolved_day"].to_numpy()
    assert not (t_pay < t0).any()  # nobody pays before the reminder
    for s in (0.25, 1.0, 3.0):
        mass = (a / kappa) * (1 - math.exp(-kappa * s))
        _within(np.mean(t_pay <= t0 + s), 1 - math.exp(-mass), N)
    ever = 1 - math.exp(-a / kappa)  # the mass left after 37.6 days is below 1e-11
    _within(np.mean(out["final_state"] == "cured"), ever, N)


def test_read_and_answer_probabilities_with_call_fatigue() -> None:
    """A read is a Bernoulli(sms_read x read_factor) draw; the k-th daily robot call is
    answered with probability p exp(-fatigue x pressure), pressure = sum over earlier calls
    of exp(-age / memory)."""
    p, fatigue, memory = 0.8, 0.5, 7.0
    sc = scenario(
        QUIET,
        seg(sms_read=0.5, robot_answer=p, fatigue=fatigue, base_intensity=0.0),
        {
            "population.borrowers": 10_000,
            "population.trait_spread": 0.0,
            "behaviour.fatigue_memory_days": memory,
            "ladder.sms.enabled": True,
            "ladder.sms.days": [0.0],
            "ladder.sms.read_factor": 0.6,
            "ladder.robot.enabled": True,
            "ladder.robot.start_day": 1.0,
            "ladder.robot.end_day": 3.0,
            "ladder.robot.calls_per_day": 1,
            "ladder.robot.hour": 10.0,
        },
        days=5,
    )
    rec = simulate(sc, 104, trace=True)
    ev = rec.events
    n = 10_000
    reads = ev[ev["kind"] == "message"]
    assert len(reads) == n
    _within(np.mean(reads["detail"] == "read"), 0.5 * 0.6, n)
    calls = ev[ev["kind"] == "call"].sort_values(["borrower_id", "time"], kind="stable")
    assert (calls.groupby("borrower_id").size() == 3).all()  # DPD 1, 2 and 3 at 10:00
    k = calls.groupby("borrower_id").cumcount().to_numpy()
    answered = (calls["detail"] == "answered").to_numpy()
    pressure = [0.0, math.exp(-1 / memory), math.exp(-1 / memory) + math.exp(-2 / memory)]
    for i, pr in enumerate(pressure):
        _within(answered[k == i].mean(), p * math.exp(-fatigue * pr), n)


def test_a_complaint_after_a_call_is_independent_of_the_answer() -> None:
    """One uniform decides both whether a call is answered and whether it draws a complaint;
    the two must still be independent: P(complaint) = complaint_per_call whether the call was
    answered or not (first call, so no call pressure)."""
    p, cp, n = 0.4, 0.25, 20_000
    sc = scenario(
        QUIET,
        seg(robot_answer=p, fatigue=0.0, base_intensity=0.0, complaint_per_call=cp),
        {
            "population.borrowers": n,
            "population.trait_spread": 0.0,
            "ladder.robot.enabled": True,
            "ladder.robot.start_day": 1.0,
            "ladder.robot.end_day": 1.0,
            "ladder.robot.calls_per_day": 1,
        },
        days=3,
    )
    ev = simulate(sc, 105, trace=True).events
    calls = ev[ev["kind"] == "call"].set_index("borrower_id")
    assert len(calls) == n
    complained = ev[(ev["kind"] == "complaint") & (ev["channel"] == "borrower")]["borrower_id"]
    answered = calls["detail"] == "answered"
    did = calls.index.isin(complained)
    _within(answered.mean(), p, n)
    n_yes, n_no = int(answered.sum()), int((~answered).sum())
    _within(did[answered.to_numpy()].mean(), cp, n_yes)
    _within(did[~answered.to_numpy()].mean(), cp, n_no)


# --------------------------------------------------------------------------- Hawkes means

HAWKES_N = 20_000
HAWKES_T = 60.0


def _hawkes_scenario(mu: float, delta: float, half_life: float):
    """Every repayment partial (share 1% exactly, so the jump after it is ``delta`` and a
    balance of a million yuan never runs out), nothing else acting: the repayments of an
    account are a linear Hawkes process with baseline ``mu``, decay kappa = 0.7 and jump
    ``delta``."""
    share = 0.01
    per_share = 0.5 if delta >= 0.5 * share else 0.0
    return scenario(
        QUIET,
        seg(base_intensity=mu, full_payment_prob=0.0, principal_median=1e6, principal_sigma=0.0),
        {
            "population.borrowers": HAWKES_N,
            "population.trait_spread": 0.0,
            "behaviour.partial_min": share,
            "behaviour.partial_max": share,
            "behaviour.payment_jump_per_share": per_share,
            "behaviour.payment_jump": delta - per_share * share,
            "behaviour.decay": 0.7,
            "behaviour.aging_half_life_days": half_life,
        },
        days=HAWKES_T,
    )


def _repayments(rec) -> np.ndarray:
    ev = rec.events
    counts = ev[ev["kind"] == "payment"].groupby("borrower_id").size()
    return counts.reindex(rec.outcomes["borrower_id"], fill_value=0).to_numpy(dtype=float)


def hawkes_mean(mu: float, kappa: float, delta: float, t: float, gamma: float = 0.0) -> float:
    """E N(t) of a linear Hawkes process with baseline ``mu * exp(-gamma s)``, exponential
    kernel ``delta * exp(-kappa s)`` (jumps not aged) and no events before 0.

    The mean intensity m = mu e^(-gamma s) + x solves x' = -(kappa - delta) x +
    delta mu e^(-gamma s), x(0) = 0; integrate m over [0, t]."""
    r = kappa - delta

    def decayed(rate: float) -> float:  # integral of e^(-rate s) over [0, t]
        return t if rate == 0 else (1 - math.exp(-rate * t)) / rate

    excess = 0.0 if delta == 0 else delta * mu / (r - gamma) * (decayed(gamma) - decayed(r))
    return mu * decayed(gamma) + excess


@pytest.mark.parametrize(("mu", "delta"), [(0.05, 0.35), (0.1, 0.0), (0.02, 0.56)])
def test_repayments_match_the_mean_of_a_hawkes_process(mu: float, delta: float) -> None:
    """With no aging the number of repayments in [0, T] has mean
    mu T / (1 - n) - mu n (1 - e^(-(kappa - delta) T)) / ((kappa - delta)(1 - n)), n = delta /
    kappa (the closed form of :func:`hawkes_mean` with gamma = 0). Tolerance: 4 standard errors
    of the mean across 20,000 accounts (the sample's own sd)."""
    rec = simulate(_hawkes_scenario(mu, delta, 0.0), 201, trace=True)
    counts = _repayments(rec)
    expected = hawkes_mean(mu, 0.7, delta, HAWKES_T)
    n = delta / 0.7
    closed = mu * HAWKES_T / (1 - n) - mu * n * (1 - math.exp(-(0.7 - delta) * HAWKES_T)) / (
        (0.7 - delta) * (1 - n)
    )
    assert expected == pytest.approx(closed, rel=1e-12)
    se = counts.std(ddof=1) / math.sqrt(len(counts))
    assert abs(counts.mean() - expected) <= 4 * se, (counts.mean(), expected, se)


def test_with_aging_only_the_baseline_fades_not_the_jump_after_a_repayment() -> None:
    """With a half-life of 20 days the baseline fades as e^(-gamma s) while the jump after a
    repayment keeps its size (it is the borrower's own momentum, not a collection action):
    the mean matches :func:`hawkes_mean` with gamma, and differs by far more than the
    tolerance from the model in which the repayment jump fades too."""
    mu, delta, half_life = 0.08, 0.35, 20.0
    gamma = math.log(2) / half_life
    rec = simulate(_hawkes_scenario(mu, delta, half_life), 202, trace=True)
    counts = _repayments(rec)
    se = counts.std(ddof=1) / math.sqrt(len(counts))
    expected = hawkes_mean(mu, 0.7, delta, HAWKES_T, gamma)
    assert abs(counts.mean() - expected) <= 4 * se, (counts.mean(), expected, se)
    # the other reading: every jump aged (delta e^(-gamma s)), by Monte Carlo of the same law
    assert abs(_mean_if_jumps_aged(mu, 0.7, delta, gamma) - expected) > 12 * se


def _mean_if_jumps_aged(mu: float, kappa: float, delta: float, gamma: float) -> float:
    """E N(T) when the jump at time s were delta e^(-gamma s): Euler integration of the mean
    intensity ODE m = mu e^(-gamma s) + x, x' = -kappa x + delta e^(-gamma s) m."""
    steps = 60_000
    dt = HAWKES_T / steps
    x = total = 0.0
    for i in range(steps):
        s = (i + 0.5) * dt
        m = mu * math.exp(-gamma * s) + x
        total += m * dt
        x += (-kappa * x + delta * math.exp(-gamma * s) * m) * dt
    return total
