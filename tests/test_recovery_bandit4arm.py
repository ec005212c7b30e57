"""Parameter recovery for the 4-armed / N-armed bandit family (statistical tier: ``pytest -m slow``).

30 simulated participants x 200 trials per model, fitted with 2 chains of 200 + 200 draws.
Each parameter with a threshold must recover its participants' values with a correlation of
posterior means vs truth above it; parameters listed in ``POORLY_IDENTIFIED`` are measured and
reported (docs/recovery_bandit4arm.md) but carry no threshold: at this design they are not
recovered reliably. Run ``python tests/test_recovery_bandit4arm.py`` to print the table.
"""

import sys

import pytest

import bayesrl as brl
from bayesrl.validate import parameter_recovery

pytestmark = pytest.mark.slow

N_PARTICIPANTS, N_TRIALS = 30, 200
FIT = {"num_warmup": 200, "num_samples": 200, "num_chains": 2, "seed": 0}


def _gain_loss_task():
    p_gain = brl.tasks.random_walk_probabilities(N_TRIALS, 4, sd=0.05, lower=0.1, upper=0.9, seed=1)
    p_loss = brl.tasks.random_walk_probabilities(N_TRIALS, 4, sd=0.05, lower=0.1, upper=0.9, seed=2)
    return brl.tasks.gain_loss_bandit(p_gain, p_loss)


def _drift_task():
    return brl.tasks.drifting_bandit(N_TRIALS, 4, seed=3)


# True group values on the unconstrained scale (mu, sigma) per parameter.
_RATES = {"Arew": (-0.5, 0.5), "Apun": (-0.5, 0.5)}
_SENS = {"R": (-1.2, 0.4), "P": (-1.2, 0.4)}
_XI = {"xi": (-1.5, 0.4)}
SETUPS = {
    "bandit4arm_4par": (_gain_loss_task, {**_RATES, **_SENS}),
    "bandit4arm_lapse": (_gain_loss_task, {**_RATES, **_SENS, **_XI}),
    "bandit4arm_lapse_decay": (_gain_loss_task, {**_RATES, **_SENS, **_XI, "d": (-1.0, 0.5)}),
    "bandit4arm_singleA_lapse": (_gain_loss_task, {"A": (-0.5, 0.5), **_SENS, **_XI}),
    "bandit4arm_2par_lapse": (_gain_loss_task, {**_RATES, **_XI}),
    "bandit4arm2_kalman_filter": (
        _drift_task,
        {
            "lambda": (1.2, 0.4),
            "theta": (0.0, 0.4),
            "beta": (-1.1, 0.4),
            "mu0": (1.0, 0.4),
            "sigma0": (-0.3, 0.4),
            "sigmaD": (-0.8, 0.4),
        },
    ),
}

# Measured once (docs/recovery_bandit4arm.md); thresholds sit at least 0.1 below the measured values.
THRESHOLDS = {
    "bandit4arm_4par": {"Arew": 0.6, "Apun": 0.6, "R": 0.85, "P": 0.7},  # measured 0.77, 0.79, 0.95, 0.86
    "bandit4arm_lapse": {"Arew": 0.6, "Apun": 0.6, "R": 0.85, "P": 0.7},  # measured 0.73, 0.72, 0.95, 0.83
    "bandit4arm_lapse_decay": {"Arew": 0.55, "Apun": 0.45, "R": 0.8, "P": 0.65, "d": 0.75},  # 0.70 0.60 0.90 0.77 0.87
    "bandit4arm_singleA_lapse": {"A": 0.6, "R": 0.85, "P": 0.75},  # measured 0.78, 0.95, 0.88
    # Apun is only weakly identified here: r = 0.66 in a float32 run, 0.45 in the float64 test run (same seeds)
    "bandit4arm_2par_lapse": {"Arew": 0.4},  # measured 0.55 (float32), 0.63 (float64)
}
# Measured but poorly identified at this design (no threshold): the lapse rate xi in every model (true
# values ~0.07, few lapses in 200 trials; in 2par_lapse the values stay within [-1, 1], so a flat
# softmax and a lapse look alike).
POORLY_IDENTIFIED = {
    "bandit4arm_lapse": {"xi": 0.22},
    "bandit4arm_lapse_decay": {"xi": 0.29},
    "bandit4arm_singleA_lapse": {"xi": 0.31},
    "bandit4arm_2par_lapse": {"xi": 0.17, "Apun": 0.45},
}
# bandit4arm2_kalman_filter is in SETUPS (run it with this file as a script) but has no case here: at
# these settings NUTS builds trees of up to 2^10 steps; its recovery tier, with max_tree_depth=7 and
# fewer draws, is tests/test_recovery_kalman.py (docs/recovery_kalman.md).


def run_recovery(name):
    """Simulate (seed 11), fit and compare: a :class:`bayesrl.validate.Recovery`."""
    make_task, truth_group = SETUPS[name]
    group = {f"{p}_{s}": v for p, (mu, sd) in truth_group.items() for s, v in (("mu", mu), ("sigma", sd))}
    return parameter_recovery(brl.models.get(name)(), make_task(), group, N_PARTICIPANTS, simulation_seed=11, **FIT)


# Run by the statistical tier: the simplest model, the one with every parameter of the family
# (4par + lapse + decay) and the two-parameter one. bandit4arm_lapse and bandit4arm_singleA_lapse
# add nothing new to the likelihood (each is lapse_decay without a parameter; their likelihoods
# are checked against the NumPy oracle in the fast tier); their bars are checked by running
# this file as a script (docs/recovery_bandit4arm.md), which keeps CI's statistical tier short.
TESTED = ("bandit4arm_4par", "bandit4arm_lapse_decay", "bandit4arm_2par_lapse")


def check(name, table):
    """Assert the bars of ``THRESHOLDS[name]`` on a recovery table (and the shuffled control)."""
    for p, bar in THRESHOLDS[name].items():
        assert table.loc[p, "r"] > bar, (name, p, table.loc[p, "r"], bar)
        assert table.loc[p, "r_shuffled"] < bar, (name, p)  # control: mismatched truth must fail the bar


@pytest.mark.parametrize("name", TESTED)
def test_participant_level_recovery(name):
    table = run_recovery(name).table
    print(f"\n{name}\n{table.round(2)}")
    check(name, table)


if __name__ == "__main__":
    for name in sys.argv[1:] or sorted(SETUPS):
        rec = run_recovery(name)
        for p, r in rec.table["r"].items():
            print(f"| {name} | {p} | {r:.2f} | {rec.seconds:.0f} |", flush=True)
        print(f"# {name}: {rec.fit.diagnostics(warn=False)}", flush=True)
        if name in THRESHOLDS:
            check(name, rec.table)
            print(f"# {name}: every bar passed", flush=True)
