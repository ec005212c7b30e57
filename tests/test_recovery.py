"""Parameter recovery of rescorla_wagner (statistical tier: ``pytest -m slow``).

40 participants x 200 trials (80/20 bandit reversing every 50 trials, outcomes 1 / -1),
4 chains x (1000 warm-up + 1000 draws); the fit must converge without a warning.
"""

import warnings

import pytest

import bayesrl as brl
from bayesrl.validate import parameter_recovery

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("rw_recovery_fit")]  # one worker builds the shared fit

TRUE_GROUP = {"alpha_mu": -0.4, "alpha_sigma": 0.6, "beta_mu": 0.0, "beta_sigma": 0.6}


@pytest.fixture(scope="module")
def recovery():
    task = brl.tasks.bandit(brl.tasks.reversal_schedule([0.8, 0.2], n_trials=200, every=50), reward=1.0, no_reward=-1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a recovery fit must converge cleanly
        return parameter_recovery(
            brl.models.rescorla_wagner(),
            task,
            TRUE_GROUP,
            40,
            simulation_seed=11,
            quiet=False,
            num_warmup=1000,
            num_samples=1000,
        )


def test_group_means_in_90_percent_intervals(recovery):
    table = recovery.fit.summary(hdi_prob=0.9)
    for p in ("alpha", "beta"):
        lo, hi = table.loc[f"{p}_mu", ["hdi_5%", "hdi_95%"]]
        assert lo <= TRUE_GROUP[f"{p}_mu"] <= hi, (p, lo, hi)
    assert recovery.fit.diagnostics(warn=False).ok


def test_participant_correlations_exceed_point_eight(recovery):
    print(f"\nrescorla_wagner (fit {recovery.seconds:.0f} s)\n{recovery.table.round(3)}")
    for p in ("alpha", "beta"):
        assert recovery.table.loc[p, "r"] > 0.8, p
        assert recovery.table.loc[p, "r_shuffled"] < 0.8, p  # control: the statistic fails on mismatched truth
        assert recovery.table.loc[p, "coverage"] > 0.75, p  # 90% intervals cover most true values
