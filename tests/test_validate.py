import jax
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


# --- model recovery and SBC: API, shapes and errors on tiny runs (the statistics are in test_sbc.py) ----

import functools  # noqa: E402

import pytest  # noqa: E402

from bayesrl.validate import model_recovery, sbc, uniformity_test  # noqa: E402

RW = brl.models.rescorla_wagner()  # one instance: every tiny run below reuses its compiled program
STICKY = brl.models.rescorla_wagner_perseveration()
TINY_TASK = brl.tasks.bandit([0.8, 0.2], n_trials=12, reward=1.0, no_reward=-1.0)
TINY_SBC = dict(n_simulations=4, n_draws=9, num_warmup=15, num_samples=30, num_chains=1, progress=False)


@functools.cache
def tiny_sbc():
    return sbc(RW, TINY_TASK, 3, seed=3, **TINY_SBC)


@functools.cache
def tiny_recovery():
    groups = {
        "rw": {"alpha_mu": 0.0, "alpha_sigma": 0.2, "beta_mu": 0.5, "beta_sigma": 0.2},
        "sticky": {
            "alpha_mu": 0.0,
            "alpha_sigma": 0.2,
            "beta_mu": 0.5,
            "beta_sigma": 0.2,
            "kappa_mu": 2,
            "kappa_sigma": 0.2,
        },
    }
    return model_recovery(
        {"rw": RW, "sticky": STICKY},
        TINY_TASK,
        groups,
        3,
        n_datasets=2,
        num_warmup=15,
        num_samples=30,
        num_chains=1,
        progress=False,
    )


def test_uniformity_test_accepts_uniform_and_rejects_piled_up_ranks():
    chi2, dof, p = uniformity_test(np.tile(np.arange(10), 10), 9, 5)
    assert (chi2, dof, p) == (0.0, 4, 1.0)
    chi2, dof, p = uniformity_test(np.zeros(100, int), 9, 5)
    assert dof == 4 and chi2 == pytest.approx(400.0) and p < 1e-50
    # 10 rank values into 3 bins: widths 4, 3, 3, expected counts proportional to them
    chi2, _, p = uniformity_test(np.arange(10), 9, 3)
    assert chi2 == pytest.approx(0.0) and p == pytest.approx(1.0)
    with pytest.raises(ValueError, match="ranks must lie"):
        uniformity_test([0, 11], 10, 2)
    with pytest.raises(ValueError, match="n_bins"):
        uniformity_test([0, 1], 10, 12)


def test_sbc_shapes_and_ranks():
    result = tiny_sbc()
    names = ["alpha_mu", "alpha_sigma", "beta_mu", "beta_sigma"]
    assert list(result.ranks.columns) == names and result.ranks.shape == (4, 4)
    assert result.ranks.to_numpy().min() >= 0 and result.ranks.to_numpy().max() <= 9
    assert result.truth.shape == (4, 4) and (result.truth[["alpha_sigma", "beta_sigma"]] > 0).all().all()
    assert list(result.test.columns) == ["chi2", "dof", "p_value", "min_ess"] and list(result.test.index) == names
    assert result.n_draws == 9 and result.n_bins == 2 and result.divergences.shape == (4,)
    assert isinstance(result.passed(), bool) and result.seconds > 0
    again = sbc(RW, TINY_TASK, 3, seed=3, **TINY_SBC)  # same seed, same ranks (and no new compilation)
    np.testing.assert_array_equal(again.ranks, result.ranks)


def test_sbc_ranks_pile_up_under_a_far_away_fit_prior():
    # fit alpha_mu with a prior far above anything the simulation prior draws: every posterior draw
    # exceeds the truth, so every rank is 0 and the test must reject (the same compiled program runs)
    result = sbc(RW, TINY_TASK, 3, seed=3, fit_priors={"alpha": {"mu_loc": 6.0, "mu_scale": 0.05}}, **TINY_SBC)
    assert (result.ranks["alpha_mu"] == 0).all()
    assert result.test.loc["alpha_mu", "p_value"] < 0.05  # 4 simulations in one of 2 bins: chi2 = 4
    assert result.truth.equals(tiny_sbc().truth)  # the simulations do not depend on the fit prior


def test_sbc_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_draws"):
        sbc(RW, TINY_TASK, 3, n_simulations=4, n_draws=100, num_samples=30, num_chains=1)
    with pytest.raises(ValueError, match="n_simulations"):
        sbc(RW, TINY_TASK, 3, n_simulations=0)
    with pytest.raises(ValueError, match="n_bins"):
        sbc(RW, TINY_TASK, 3, n_simulations=4, n_draws=9, n_bins=11, num_samples=30, num_chains=1)
    with pytest.raises(ValueError, match="unknown parameter"):
        sbc(RW, TINY_TASK, 3, n_simulations=4, n_draws=9, num_samples=30, num_chains=1, fit_priors={"gamma": {}})


def test_model_recovery_tables():
    result = tiny_recovery()
    assert list(result.counts.index) == ["rw", "sticky"] and list(result.counts.columns) == ["rw", "sticky"]
    assert result.counts.to_numpy().sum() == 4 and (result.counts.sum(axis=1) == 2).all()
    np.testing.assert_allclose(result.confusion.sum(axis=1), 1.0)
    won = result.counts.sum(axis=0) > 0
    np.testing.assert_allclose(result.inversion.sum(axis=1)[won], 1.0)  # rows: winners
    assert result.inversion.index.name == "winning model"
    assert len(result.winners) == 4 and set(result.winners["winner"]) <= {"rw", "sticky"}
    assert (result.winners["elpd_diff"] <= 0).all()
    table = result.tables[("rw", 0)]
    assert set(table.index) == {"rw", "sticky"} and table.index[0] == result.winners.iloc[0]["winner"]
    for g in ("rw", "sticky"):
        expected = result.winners[result.winners["generator"] == g]["winner"].value_counts()
        assert result.counts.loc[g, expected.index].tolist() == expected.tolist()


def test_model_recovery_fits_score_their_own_draws():
    # the vectorised sampler's Fit (its compiled program is the tiny SBC's: same model, shapes, lanes); its stored
    # log-likelihood is what the model gives at its own draws
    from bayesrl import plots

    fit = tiny_recovery().fits[("sticky", 1)]["sticky"]
    assert fit.posterior["kappa"].shape == (1, 30, 3) and fit.metadata["sampler"]["num_samples"] == 30
    probs = plots.one_step_probabilities(fit, num_draws=30)
    choice = fit.data.arrays["choice"]
    picked = np.take_along_axis(probs, choice[None, :, :, None], axis=-1)[..., 0]
    np.testing.assert_allclose(np.log(picked).reshape(30, -1), fit.log_likelihood("trial").reshape(30, -1), atol=1e-8)
    assert fit.diagnostics(warn=False).num_draws == 30


def test_model_recovery_rejects_bad_arguments():
    groups = {"rw": {"alpha_mu": 0.0, "alpha_sigma": 0.2, "beta_mu": 0.5, "beta_sigma": 0.2}}
    with pytest.raises(ValueError, match="at least two"):
        model_recovery({"rw": RW}, TINY_TASK, groups, 3)
    with pytest.raises(ValueError, match="unknown"):
        model_recovery({"rw": RW, "sticky": STICKY}, TINY_TASK, {"other": {}}, 3)
    with pytest.raises(ValueError, match="n_participants"):
        model_recovery({"rw": RW, "sticky": STICKY}, TINY_TASK, groups, 1)


def test_model_recovery_and_sbc_plots():
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    from bayesrl import plots

    result = tiny_recovery()
    ax = plots.plot_model_recovery(result, "confusion")
    assert isinstance(ax, Axes) and ax.get_ylabel() == "generating model"
    np.testing.assert_allclose(ax.images[0].get_array(), result.confusion.to_numpy())
    ax = plots.plot_model_recovery(result, "inversion")
    assert ax.get_ylabel() == "winning model (LOO)"
    with pytest.raises(ValueError, match="kind"):
        plots.plot_model_recovery(result, "other")
    axes = plots.plot_sbc(tiny_sbc())
    assert axes.shape == (4,) and "alpha_mu" in axes[0].get_title()
    (bars,) = axes[0].containers  # the histogram
    assert sum(p.get_height() for p in bars) == 4  # every simulation in one bin or another
    plt.close("all")


def test_batched_fits_default_to_batches_of_eight_on_cpu_and_do_not_depend_on_the_batch_size():
    from bayesrl import _batch
    from bayesrl import data as data_mod
    from bayesrl.hierarchy import resolve_priors
    from bayesrl.validate import _split_datasets

    assert jax.default_backend() == "cpu"  # the test tier runs on CPU
    assert _batch.default_batch_size(3) == 3 and _batch.default_batch_size(100) == _batch.CPU_BATCH_SIZE == 8
    group = {"alpha_mu": 0.0, "alpha_sigma": 0.2, "beta_mu": 0.5, "beta_sigma": 0.2}
    sim = brl.simulate(RW, group=group, n_participants=2 * 10, task=TINY_TASK, seed=4)
    prepared = [data_mod.prepare(df, RW) for df in _split_datasets(sim, 2, 10)]
    trials = jax.tree_util.tree_map(lambda *a: np.stack(a), *[x.trials(RW) for x in prepared])
    settings = dict(num_warmup=10, num_samples=10, num_chains=1, seed=5)
    priors = resolve_priors(RW, None)
    done = []
    samples, stats = _batch.sample_batch(RW, trials, priors, progress=done.append, **settings)
    assert done == [8, 10]  # two compiled calls, the second padded
    again, again_stats = _batch.sample_batch(RW, trials, priors, batch_size=10, **settings)
    for name in samples:
        assert samples[name].shape[:3] == (10, 1, 10)
        np.testing.assert_allclose(samples[name], again[name], rtol=1e-4, atol=1e-5, err_msg=name)
    np.testing.assert_array_equal(stats["n_steps"], again_stats["n_steps"])
