"""``centered="auto"``: each parameter's parameterisation chosen from the data (``bayesrl._centering``)."""

import warnings

import numpy as np
import pytest
from scipy import stats

import bayesrl as brl
from bayesrl import _centering
from bayesrl import data as data_mod
from bayesrl._centering import THRESHOLD, _sigma_posterior, centering_scores, choose_centered
from bayesrl.hierarchy import resolve_priors

MODEL = brl.models.rescorla_wagner()
SMALL = dict(num_warmup=150, num_samples=150, num_chains=2, progress_bar=False)


def simulated(n_participants, n_trials, sigma, seed):
    """Participants whose (alpha, beta) spread by ``sigma`` on the probit scale around hBayesDM-like values."""
    rng = np.random.default_rng(seed)
    raw = rng.normal([-0.4, -0.3], sigma, size=(n_participants, 2))
    truth = {"alpha": stats.norm.cdf(raw[:, 0]), "beta": 5.0 * stats.norm.cdf(raw[:, 1])}
    task = brl.tasks.bandit(brl.tasks.reversal_schedule([0.8, 0.2], n_trials=n_trials, every=50))
    return brl.simulate(MODEL, truth, task=task, seed=seed)


@pytest.fixture(scope="module")
def informative():
    return simulated(30, 300, 0.8, seed=3)


def scores_of(table):
    trials = data_mod.prepare(table, MODEL).trials(MODEL)
    return centering_scores(MODEL, trials, resolve_priors(MODEL, None))


def test_sigma_posterior_recovers_the_spread_net_of_the_noise():
    rng = np.random.default_rng(0)
    noise = np.full(400, 0.1**2)
    e = rng.normal(0.0, np.sqrt(0.5**2 + noise))  # true sigma 0.5 plus measurement noise
    grid, w = _sigma_posterior(e, noise, "halfnormal", 0.2)
    assert w.sum() == pytest.approx(1.0)
    assert abs(w @ grid - 0.5) < 0.04
    e = rng.normal(0.0, np.sqrt(noise))  # noise alone: sigma near 0, below the prior's scale
    grid, w = _sigma_posterior(e, noise, "halfcauchy", 0.2)
    assert w @ grid < 0.05


def test_scores_rise_with_the_information_per_participant(informative):
    few = scores_of(simulated(20, 30, 0.3, seed=4))  # 30 trials, little spread: the funnel side
    many = scores_of(informative)  # 300 trials, wide spread
    assert set(few) == set(many) == {"alpha", "beta"}
    for name in ("alpha", "beta"):
        assert 0.0 <= few[name] < 0.3 and many[name] > few[name] + 0.4, (name, few, many)
    # beta is pinned down well by 300 trials; alpha (0.65-0.73 here) less so, near the threshold
    assert few["beta"] < THRESHOLD < many["beta"] < 1.0


def test_auto_fit_samples_the_chosen_parameterisation(informative, tmp_path):
    trials = data_mod.prepare(informative, MODEL).trials(MODEL)
    chosen, scores = choose_centered(MODEL, trials, resolve_priors(MODEL, None))
    assert "beta" in chosen, scores
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short chains may warn about ESS
        auto = brl.fit(MODEL, informative, centered="auto", seed=2, **SMALL)
        explicit = brl.fit(MODEL, informative, centered=sorted(chosen), seed=2, **SMALL)
    sampler = auto.metadata["sampler"]
    assert sampler["centered"] == sorted(chosen)
    assert sampler["centering_scores"] == pytest.approx(scores, rel=1e-4)
    assert "beta_raw" in auto.posterior and "beta_z" not in auto.posterior
    # the choice uses a key of its own: the draws are those of the explicit choice
    np.testing.assert_array_equal(auto.posterior["beta"].values, explicit.posterior["beta"].values)
    assert "centering_scores" not in explicit.metadata["sampler"]
    auto.save(tmp_path / "fit.nc")
    loaded = brl.load_fit(tmp_path / "fit.nc")
    assert loaded.metadata["sampler"]["centering_scores"] == pytest.approx(scores, rel=1e-4)
    assert loaded.metadata["sampler"]["centered"] == sorted(chosen)


def test_the_default_chooses_as_auto_does_on_large_data_sets_only(informative, monkeypatch):
    n_choices = int(data_mod.prepare(informative, MODEL).arrays["valid"].sum())
    assert n_choices == 30 * 300 < _centering.AUTO_FROM
    kw = dict(num_warmup=20, num_samples=20, num_chains=2, progress_bar=False, check=False, seed=2)
    below = brl.fit(MODEL, informative, **kw)
    assert below.metadata["sampler"]["centered"] == [] and "centering_scores" not in below.metadata["sampler"]
    assert "beta_z" in below.posterior

    monkeypatch.setattr(_centering, "AUTO_FROM", n_choices)  # these data now count as large
    default = brl.fit(MODEL, informative, **kw)
    auto = brl.fit(MODEL, informative, centered="auto", **kw)
    assert "beta" in default.metadata["sampler"]["centered"]
    assert default.metadata["sampler"]["centered"] == auto.metadata["sampler"]["centered"]
    assert default.metadata["sampler"]["centering_scores"] == auto.metadata["sampler"]["centering_scores"]
    np.testing.assert_array_equal(default.posterior["beta"].values, auto.posterior["beta"].values)
    # asked for explicitly (any iterable of names), or not NUTS: no choice is made
    names = brl.fit(MODEL, informative, centered=np.array(["alpha", "beta"]), **kw)
    assert names.metadata["sampler"]["centered"] == ["alpha", "beta"]
    assert "centering_scores" not in names.metadata["sampler"]
    for other in (
        brl.fit(MODEL, informative, centered=[], **kw),
        brl.fit(MODEL, informative, method="map", num_samples=20, progress_bar=False, check=False),
    ):
        assert other.metadata["sampler"]["centered"] == [] and "centering_scores" not in other.metadata["sampler"]


def test_centered_must_be_auto_or_names(informative):
    with pytest.raises(ValueError, match='centered must be None, "auto" or a list of parameter names'):
        brl.fit(MODEL, informative, centered="alpha", **SMALL)
    trials = data_mod.prepare(informative, MODEL).trials(MODEL)
    batch = type(trials)(*(np.asarray(f)[None] for f in trials))
    from bayesrl._batch import sample_batch

    with pytest.raises(ValueError, match='centered="auto" is for brl.fit'):
        sample_batch(
            MODEL, batch, resolve_priors(MODEL, None), num_warmup=5, num_samples=5, num_chains=1, centered="auto"
        )


@pytest.mark.slow
def test_centred_and_non_centred_fits_agree(informative):
    """The same posterior either way: group means within 4 Monte Carlo standard errors, participants' close."""
    fits = {}
    for name, centered in (("non-centred", ()), ("centred", ("alpha", "beta"))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # judged below: the non-centred fit mixes slowly on these data
            fits[name] = brl.fit(MODEL, informative, centered=centered, seed=5, progress_bar=False)
    a, b = (f.summary() for f in fits.values())
    print(f"\nnon-centred\n{a.round(3)}\ncentred\n{b.round(3)}")
    for table in (a, b):
        assert table["r_hat"].max() < 1.03 and table["ess_bulk"].min() > 300, table
    # the reason to centre here: the group means mix better
    assert b.loc["beta_mu", "ess_bulk"] > a.loc["beta_mu", "ess_bulk"]
    for row in ("alpha_mu", "alpha_sigma", "beta_mu", "beta_sigma", "alpha_group", "beta_group"):
        gap = abs(a.loc[row, "mean"] - b.loc[row, "mean"])
        assert gap < 4 * np.hypot(a.loc[row, "mcse_mean"], b.loc[row, "mcse_mean"]), (row, gap)
        assert b.loc[row, "sd"] == pytest.approx(a.loc[row, "sd"], rel=0.15), row
    for p in ("alpha", "beta"):
        x, y = (np.asarray(f.posterior[p].mean(("chain", "draw"))) for f in fits.values())
        sd = np.asarray(fits["non-centred"].posterior[p].std(("chain", "draw")))
        assert np.max(np.abs(x - y) / sd) < 0.2, p
