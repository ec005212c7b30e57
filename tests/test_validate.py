import numpy as np

import bayesrl as brl
from bayesrl.validate import parameter_recovery, shuffled_correlation


def test_parameter_recovery_returns_truth_estimates_and_a_table():
    model = brl.models.rescorla_wagner()
    group = {"alpha_mu": 0.0, "alpha_sigma": 0.5, "beta_mu": 0.0, "beta_sigma": 0.5}
    rec = parameter_recovery(
        model,
        brl.tasks.bandit([0.8, 0.2], n_trials=40),
        group,
        6,
        simulation_seed=2,
        num_warmup=30,
        num_samples=30,
        num_chains=1,
    )
    assert list(rec.table.index) == ["alpha", "beta"]
    assert list(rec.table.columns) == ["r", "r_shuffled", "coverage", "rmse"]
    assert list(rec.truth.columns) == ["alpha", "beta"] and len(rec.truth) == 6
    assert list(rec.estimates.index) == list(rec.truth.index)
    assert ((rec.table["coverage"] >= 0) & (rec.table["coverage"] <= 1)).all() and rec.seconds > 0
    expected = np.corrcoef(rec.estimates["alpha_mean"], rec.truth["alpha"])[0, 1]
    assert np.isclose(rec.table.loc["alpha", "r"], expected)


def test_shuffled_correlation_destroys_the_association():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=50)
    assert np.isclose(np.corrcoef(truth, truth)[0, 1], 1.0)
    assert abs(shuffled_correlation(truth, truth)) < 0.1
