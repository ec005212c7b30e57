"""Parameter recovery for ``bandit4arm2_kalman_filter`` (statistical tier: ``pytest -m slow``).

30 simulated participants x 200 trials of Daw et al.'s (2006) restless 4-armed bandit
(``brl.tasks.drifting_bandit``: payoffs 1..100, observation noise 4, as the model assumes),
participants drawn around hBayesDM's plausible values, fitted with 2 chains of 200 warm-up
iterations and 100 draws with ``max_tree_depth=7``. Parameters in ``THRESHOLDS`` must recover
their participants' values with a correlation of posterior means vs truth above the bar, and
the shuffled-truth control must stay below it; parameters in ``POORLY_IDENTIFIED`` are measured
and reported (docs/recovery_kalman.md) but carry no bar.

Why the tree depth is capped (docs/recovery_kalman.md): with NumPyro's default depth 10 the
trees reach 2^8-2^10 leapfrog steps, during warm-up before the first mass-matrix estimate (the
~190 sampled coordinates differ widely in posterior scale) and whenever a chain visits the Cauchy
tail of the half-Cauchy(0, 5) group scale of a parameter the choices barely inform (``sigma0``,
``mu0``): a scale of 10-10^4 on the probit scale pins participants' values at the bounds, the
non-centred ``z`` meet cliffs of width ~1/scale and the step size collapses. Capping the trees at
2^7 bounds the cost of a draw; the participant-level means of the identified parameters are still
recovered, but the short chains are not converged (R-hat up to 1.1 on mu0).
Run ``python tests/test_recovery_kalman.py`` to print the table.
"""

import sys

import numpy as np
import pytest

import bayesrl as brl
from bayesrl.validate import parameter_recovery

pytestmark = pytest.mark.slow

MODEL = "bandit4arm2_kalman_filter"
N_PARTICIPANTS, N_TRIALS = 30, 200
FIT = {"num_warmup": 200, "num_samples": 100, "num_chains": 2, "seed": 0, "max_tree_depth": 7}

# True group values on the unconstrained (probit) scale, (mu, sigma): hBayesDM's plausible values
# lambda ~ 0.89, theta ~ 50, beta ~ 0.14, mu0 ~ 84, sigma0 ~ 5.7, sigmaD ~ 3.2 (the task's own
# diffusion sd is 2.8), each spread by 0.4.
GROUP = {
    "lambda": (1.2, 0.4),
    "theta": (0.0, 0.4),
    "beta": (-1.1, 0.4),
    "mu0": (1.0, 0.4),
    "sigma0": (-0.3, 0.4),
    "sigmaD": (-0.8, 0.4),
}

# Bars sit at least 0.1 below the lowest of three simulation seeds (docs/recovery_kalman.md, float64):
# lambda 0.73 / 0.79 / 0.83, theta 0.88 / 0.95 / 0.89, beta 0.87 / 0.85 / 0.83 (seeds 11 / 5 / 7).
THRESHOLDS = {"lambda": 0.6, "theta": 0.75, "beta": 0.7}
# Measured, no bar (seeds 11 / 5 / 7): sigmaD 0.84 / 0.35 / 0.46 (it and lambda both set the
# steady-state Kalman gain); mu0 0.69 / 0.40 / 0.43 (acts only until each arm has been sampled and
# the initial value has decayed); sigma0 0.37 / 0.52 / 0.37 (acts only until each arm's variance
# reaches its steady state, a few trials).
POORLY_IDENTIFIED = ("sigmaD", "mu0", "sigma0")


def task():
    return brl.tasks.drifting_bandit(N_TRIALS, 4, seed=3)


def run_recovery(simulation_seed=11):
    """Simulate, fit and compare: a :class:`bayesrl.validate.Recovery`."""
    group = {f"{p}_{s}": v for p, (mu, sd) in GROUP.items() for s, v in (("mu", mu), ("sigma", sd))}
    model = brl.models.get(MODEL)()
    return parameter_recovery(model, task(), group, N_PARTICIPANTS, simulation_seed=simulation_seed, **FIT)


def report(rec):
    """The table and the sampler's work: leapfrog steps per draw, draws at the depth cap."""
    steps = np.asarray(rec.fit.idata["sample_stats"]["n_steps"])
    at_cap = float(np.mean(steps >= 2 ** FIT["max_tree_depth"] - 1))
    return (
        f"{MODEL}: fit {rec.seconds:.0f} s, leapfrog steps per draw mean {steps.mean():.0f}, "
        f"share of draws at max_tree_depth {at_cap:.2f}\n{rec.table.round(2)}\n{rec.fit.diagnostics(warn=False)}"
    )


def test_participant_level_recovery():
    rec = run_recovery()
    print("\n" + report(rec))
    table = rec.table
    assert set(THRESHOLDS) | set(POORLY_IDENTIFIED) == set(table.index)
    for p, bar in THRESHOLDS.items():
        assert table.loc[p, "r"] > bar, (p, table.loc[p, "r"], bar)
        assert table.loc[p, "r_shuffled"] < bar, p  # control: mismatched truth must fail the bar


if __name__ == "__main__":  # the table in docs/recovery_kalman.md, in float64 as the test suite runs
    import jax

    jax.config.update("jax_enable_x64", "--float32" not in sys.argv)
    seeds = [int(a) for a in sys.argv[1:] if a.isdigit()] or [11]  # other simulation seeds: a robustness check
    for seed in seeds:
        print(f"simulation seed {seed}: " + report(run_recovery(seed)), flush=True)
