"""Parameter recovery (statistical tier: ``pytest -m slow``)."""

import warnings

import numpy as np
import pytest

import bayesrl as brl

pytestmark = pytest.mark.slow

TRUE_GROUP = {"alpha_mu": -0.4, "alpha_sigma": 0.6, "beta_mu": 0.0, "beta_sigma": 0.6}


@pytest.fixture(scope="module")
def recovery():
    model = brl.models.rescorla_wagner()
    task = brl.tasks.bandit(brl.tasks.reversal_schedule([0.8, 0.2], n_trials=200, every=50), reward=1.0, no_reward=-1.0)
    sim = brl.simulate(model, group=TRUE_GROUP, n_participants=40, task=task, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a recovery fit must converge cleanly
        fit = brl.fit(model, sim, num_warmup=1000, num_samples=1000, num_chains=4, seed=0, progress_bar=False)
    truth = sim.groupby("participant")[["true_alpha", "true_beta"]].first()
    return fit, truth


def test_group_means_in_90_percent_intervals(recovery):
    fit, _ = recovery
    table = fit.summary(hdi_prob=0.9)
    for p in ("alpha", "beta"):
        lo, hi = table.loc[f"{p}_mu", ["hdi_5%", "hdi_95%"]]
        assert lo <= TRUE_GROUP[f"{p}_mu"] <= hi, (p, lo, hi)
    assert fit.diagnostics(warn=False).ok


def test_participant_correlations_exceed_point_eight(recovery):
    fit, truth = recovery
    est = fit.participants().loc[truth.index]
    for p in ("alpha", "beta"):
        r = np.corrcoef(est[f"{p}_mean"], truth[f"true_{p}"])[0, 1]
        assert r > 0.8, (p, r)
        # control: the same statistic against shuffled truth must fail the bar
        shuffled = np.random.default_rng(0).permutation(truth[f"true_{p}"].to_numpy())
        assert np.corrcoef(est[f"{p}_mean"], shuffled)[0, 1] < 0.8
