"""brl.compare (PSIS-LOO with exact refits, WAIC, grouped K-fold), brl.participant_elpd and brl.bms."""

import dataclasses
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special

import bayesrl as brl
from bayesrl import _arviz, engine
from bayesrl._bms import exceedance_exact, exceedance_sampled
from bayesrl._refit import integrated_log_lik, refitter
from bayesrl.results import Fit

SMALL = dict(num_warmup=150, num_samples=300, num_chains=1, progress_bar=False, check=False)
COLUMNS = [
    "rank",
    "elpd",
    "se",
    "p",
    "elpd_diff",
    "dse",
    "weight_stacking",
    "weight_pseudo_bma",
    "warning",
    "method",
    "n_flagged",
    "n_integrated",
    "n_refit",
    "mcse_refit",
]


def quiet(f, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args, **kwargs)


@pytest.fixture(scope="module")
def sticky_df():
    """6 participants x 40 trials from rescorla_wagner_perseveration with a strong stickiness (kappa = 3)."""
    model = brl.models.rescorla_wagner_perseveration()
    task = brl.tasks.bandit([0.7, 0.3], n_trials=40)
    return brl.simulate(model, {"alpha": 0.3, "beta": 2.0, "kappa": [3.0] * 6}, task=task, seed=3)


@pytest.fixture(scope="module")
def fits(sticky_df):
    """One chain: refits then run without vectorised chains, which take several times longer
    to trace (the slow tier refits 4-chain fits)."""
    return {
        "rw": brl.fit(brl.models.rescorla_wagner(), sticky_df, seed=1, **SMALL),
        "sticky": brl.fit(brl.models.rescorla_wagner_perseveration(), sticky_df, seed=1, **SMALL),
    }


@pytest.fixture(scope="module")
def psis(fits):
    """compare with plain PSIS-LOO only (no integrated step, no refits): table and pointwise elpd."""
    return quiet(brl.compare, fits, refit="never", integrate=False, return_pointwise=True)


def test_compare_ranks_the_generating_model_first(fits):
    with pytest.warns(UserWarning, match=r"Pareto k above .*refit='auto'"):
        table = brl.compare(fits, refit="never", integrate=False)
    assert list(table.index) == ["sticky", "rw"] and table.index.name == "model"
    assert list(table.columns) == COLUMNS  # the same on ArviZ 0.2x and 1.x
    assert table["rank"].tolist() == [0, 1]
    assert table["rank"].dtype.kind == "i" and table["warning"].dtype == bool
    assert table["n_flagged"].dtype.kind == "i" and table["n_refit"].dtype.kind == "i"
    for c in ("elpd", "se", "p", "elpd_diff", "dse", "weight_stacking", "weight_pseudo_bma", "mcse_refit"):
        assert table[c].dtype == float, c
    rw = table.loc["rw"]
    assert rw["elpd_diff"] < -2 * rw["dse"]  # clearly separable: > 2 standard errors
    assert table.loc["sticky", "elpd_diff"] == 0 and table.loc["sticky", "dse"] == 0
    assert table.loc["sticky", "weight_stacking"] > 0.9 and table.loc["sticky", "weight_pseudo_bma"] > 0.9
    np.testing.assert_allclose(table[["weight_stacking", "weight_pseudo_bma"]].sum(), 1.0, atol=1e-6)
    assert (table["method"] == "psis-loo").all() and (table["n_refit"] == 0).all()
    assert (table["warning"] == (table["n_flagged"] > 0)).all()
    assert table.attrs["ic"] == "loo" and table.attrs["unit"] == "participant"
    # the integrated step (no refit) keeps the ranking and leaves fewer participants flagged
    table_int = quiet(brl.compare, fits, refit="never")
    assert list(table_int.index) == ["sticky", "rw"]
    for name in fits:
        d = table_int.attrs["details"][name]
        assert table_int.loc[name, "n_integrated"] == len(d["integrated"]) <= table_int.loc[name, "n_flagged"]
        assert set(d["pareto_k_integrated"]) == set(d["flagged"])
        assert ("+integrated" in table_int.loc[name, "method"]) == bool(d["integrated"])
    assert table_int["n_integrated"].sum() > 0


def test_table_matches_arviz_loo_and_a_hand_computation(fits, psis):
    table, pointwise = psis
    assert list(pointwise.columns) == ["rw", "sticky"] and pointwise.index.name == "participant"
    assert list(pointwise.index) == [str(i) for i in range(1, 7)]
    n = len(pointwise)
    for name, f in fits.items():
        loo = quiet(f.loo)
        elpd_i = np.asarray(loo.elpd_i if hasattr(loo, "elpd_i") else loo["loo_i"])
        np.testing.assert_allclose(pointwise[name], elpd_i, rtol=1e-12)
        np.testing.assert_allclose(table.loc[name, "elpd"], elpd_i.sum(), rtol=1e-12)
        np.testing.assert_allclose(table.loc[name, "se"], np.sqrt(n * elpd_i.var()), rtol=1e-12)
        ll = f.log_likelihood().reshape(-1, n)
        lppd = special.logsumexp(ll, axis=0) - np.log(ll.shape[0])
        np.testing.assert_allclose(table.loc[name, "p"], (lppd - elpd_i).sum(), rtol=1e-9)
        k = np.asarray(loo.pareto_k)
        assert table.loc[name, "n_flagged"] == int((k > table.attrs["details"][name]["threshold"]).sum())
    diff = pointwise["rw"] - pointwise["sticky"]
    np.testing.assert_allclose(table.loc["rw", "elpd_diff"], diff.sum(), rtol=1e-12)
    np.testing.assert_allclose(table.loc["rw", "dse"], np.sqrt(n * diff.var(ddof=0)), rtol=1e-9)
    elpd = table["elpd"].to_numpy()
    np.testing.assert_allclose(table["weight_pseudo_bma"], np.exp(elpd - elpd.max()) / np.exp(elpd - elpd.max()).sum())


def test_waic_and_the_trial_unit(fits):
    table = quiet(brl.compare, fits, ic="waic")
    assert list(table.columns) == COLUMNS and (table["method"] == "waic").all()
    for name, f in fits.items():
        np.testing.assert_allclose(table.loc[name, "elpd"], f.waic()["elpd_waic"], rtol=1e-12)
    table_t, pointwise_t = quiet(brl.compare, fits, unit="trial", return_pointwise=True)
    valid = fits["rw"].data.arrays["valid"]
    assert pointwise_t.shape == (int(valid.sum()), 2) and pointwise_t.index.names == ["participant", "trial"]
    assert table_t.attrs["unit"] == "trial" and (table_t["n_refit"] == 0).all()
    # a first choice between equal initial values has the same likelihood in every draw: enters exactly
    np.testing.assert_allclose(pointwise_t.xs(0, level="trial"), np.log(0.5), rtol=1e-12)
    np.testing.assert_allclose(table_t["elpd"], pointwise_t.sum()[table_t.index], rtol=1e-12)
    with pytest.raises(ValueError, match="unit='participant'"):
        brl.compare(fits, unit="trial", refit=["1"])
    with pytest.raises(ValueError, match="applies to ic='loo'"):
        brl.compare(fits, ic="waic", refit="always")


def test_arviz_layer_gives_the_same_numbers_on_both_versions():
    """``_arviz.compare`` on fixed pointwise values against a hand computation (run under both
    ArviZ versions, this pins both to the same numbers)."""
    rng = np.random.default_rng(0)
    pointwise = {"a": rng.normal(-3.0, 1.0, 12), "b": rng.normal(-3.3, 1.0, 12), "c": rng.normal(-3.1, 1.0, 12)}
    elpds = {k: _arviz.elpd_data(v, p=1.5, n_samples=400) for k, v in pointwise.items()}
    stacking, pbma = _arviz.compare(elpds, "stacking"), _arviz.compare(elpds, "pseudo-BMA")
    assert list(stacking.columns) == ["rank", "elpd", "se", "p", "elpd_diff", "dse", "weight"]
    best = max(pointwise, key=lambda k: pointwise[k].sum())
    assert stacking.index[0] == best and stacking["rank"].tolist() == [0, 1, 2]
    for k, v in pointwise.items():
        diff = v - pointwise[best]
        np.testing.assert_allclose(stacking.loc[k, "elpd"], v.sum())
        np.testing.assert_allclose(stacking.loc[k, "se"], np.sqrt(12 * v.var()))
        np.testing.assert_allclose(stacking.loc[k, "elpd_diff"], diff.sum(), atol=1e-12)
        np.testing.assert_allclose(stacking.loc[k, "dse"], np.sqrt(12 * diff.var()), atol=1e-12)
    elpd = pbma["elpd"].to_numpy()
    np.testing.assert_allclose(pbma["weight"], np.exp(elpd - elpd.max()) / np.exp(elpd - elpd.max()).sum())
    # stacking maximises sum_i log sum_k w_k exp(elpd_ik): no point of a fine simplex grid does better
    dens = np.exp(np.stack([pointwise[k] for k in stacking.index], axis=1))
    score = np.log(dens @ stacking["weight"].to_numpy()).sum()
    g = np.linspace(0, 1, 101)
    w = np.array([(x, y, 1 - x - y) for x in g for y in g if x + y <= 1 + 1e-12])
    assert score >= np.log(dens @ w.T).sum(axis=0).max() - 1e-6


def _with_data(fit, **changes):
    """The same fit pretending to have been fitted to modified data (nothing is recomputed)."""
    arrays = {k: v.copy() for k, v in fit.data.arrays.items()}
    arrays.update(changes.pop("arrays", {}))
    return Fit(fit.idata, fit.model, dataclasses.replace(fit.data, arrays=arrays, **changes), fit.metadata)


def test_fits_of_different_data_and_bad_arguments_are_refused(fits):
    rw, sticky = fits["rw"], fits["sticky"]
    data = sticky.data
    other_ids = _with_data(sticky, participants=np.array(["1", "2", "3", "4", "5", "99"], dtype=object))
    with pytest.raises(ValueError, match=r"'rw' and 'sticky' were fitted to different data: participants differ.*'99'"):
        brl.compare({"rw": rw, "sticky": other_ids})
    with pytest.raises(ValueError, match="different order"):
        brl.compare({"rw": rw, "sticky": _with_data(sticky, participants=data.participants[::-1])})
    counts = data.n_trials.copy()
    counts[2] = 39
    with pytest.raises(ValueError, match=r"trial counts differ \(participant '3' has 40 trials in 'rw' and 39"):
        brl.compare({"rw": rw, "sticky": _with_data(sticky, n_trials=counts)})
    choice = data.arrays["choice"].copy()
    choice[1, 7] = 1 - choice[1, 7]
    with pytest.raises(ValueError, match=r"choices differ \(first at participant '2', trial 7"):
        brl.compare({"rw": rw, "sticky": _with_data(sticky, arrays={"choice": choice})})
    outcome = data.arrays["outcome"].copy()
    outcome[4, 0] += 1
    with pytest.raises(ValueError, match=r"column 'outcome' differ.*participant '5', trial 0"):
        brl.compare({"rw": rw, "sticky": _with_data(sticky, arrays={"outcome": outcome})})
    valid = data.arrays["valid"].copy()
    valid[0, 3] = False
    with pytest.raises(ValueError, match="masked trials differ"):
        brl.compare({"rw": rw, "sticky": _with_data(sticky, arrays={"valid": valid})})
    with pytest.raises(ValueError, match="at least two fits"):
        brl.compare({"rw": rw})
    with pytest.raises(TypeError, match="bayesrl.Fit"):
        brl.compare({"rw": rw, "x": "fit"})
    with pytest.raises(TypeError, match="dict"):
        brl.compare([rw, sticky])
    with pytest.raises(ValueError, match="ic must be"):
        brl.compare(fits, ic="aic")
    with pytest.raises(ValueError, match="unit must be"):
        brl.compare(fits, unit="block")
    with pytest.raises(ValueError, match="refit must be one of"):
        brl.compare(fits, refit="sometimes")
    with pytest.raises(ValueError, match=r"not in the data: \['7'\]"):
        brl.compare(fits, refit=["7"])
    with pytest.raises(ValueError, match="between 2 and the number of participants"):
        brl.compare(fits, ic="kfold", k=7)
    with pytest.raises(ValueError, match="grouped by participant"):
        brl.compare(fits, ic="kfold", unit="trial")


def gauss_hermite_elpd(model, draws, trials, nodes=24):
    """Brute force: log mean over group draws of a tensor Gauss-Hermite quadrature of
    integral p(y | f(raw)) N(raw; mu_s, sigma_s) d raw (instead of Monte Carlo)."""
    x, w = np.polynomial.hermite_e.hermegauss(nodes)  # weight exp(-x^2 / 2)
    names = model.param_names
    grid = np.stack([g.ravel() for g in np.meshgrid(*[x] * len(names), indexing="ij")])  # (param, node)
    log_w = np.log(np.prod(np.meshgrid(*[w / w.sum()] * len(names), indexing="ij"), axis=0).ravel())
    mu = {p: np.ravel(draws[f"{p}_mu"]) for p in names}
    sigma = {p: np.ravel(draws[f"{p}_sigma"]) for p in names}
    raw = {p: jnp.asarray((mu[p][:, None] + sigma[p][:, None] * grid[j]).ravel()) for j, p in enumerate(names)}

    def one(v):
        params = model.make_params({p: model.params[p].constrain(v[p]) for p in names})
        return engine.choice_log_prob(
            engine.participant_logits(model, params, trials), trials.choice, trials.valid
        ).sum()

    ll = np.asarray(jax.jit(lambda r: jax.lax.map(one, r, batch_size=2048))(raw)).reshape(len(mu[names[0]]), -1)
    per_draw = special.logsumexp(ll + log_w, axis=1)
    return float(special.logsumexp(per_draw) - np.log(per_draw.size))


def test_forced_refit_of_one_participant_matches_a_quadrature(fits, psis):
    rw = fits["rw"]
    twice = {"rw": rw, "rw_again": rw}  # the same fit twice: its refit runs once (kept per fit)
    table, pointwise = quiet(
        brl.compare, twice, refit=["1"], integrate=False, return_pointwise=True, progress_bar=False
    )
    assert (table["n_refit"] == 1).all() and (table["method"] == "psis-loo+refit").all()
    d = table.attrs["details"]["rw"]
    assert d["refitted"] == ["1"] and set(d["mcse"]) == {"1"}
    mcse = d["mcse"]["1"]
    assert 0 < table.loc["rw", "mcse_refit"] == mcse < 0.1
    assert table.loc["rw", "warning"] == bool(set(d["flagged"]) - {"1"})
    assert table.loc["rw", "n_flagged"] == psis[0].loc["rw", "n_flagged"]
    # only participant 1 changed, and exact and PSIS agree roughly
    before = psis[1]["rw"]
    np.testing.assert_array_equal(pointwise["rw"].iloc[1:], before.iloc[1:])
    assert abs(pointwise.loc["1", "rw"] - before.loc["1"]) < 1.0
    # brute force over the refit's own group draws: a tensor Gauss-Hermite quadrature of the
    # integral over the participant's parameters instead of Monte Carlo
    draws, _ = refitter(rw).group_draws([0], seed=0)  # kept from compare's refit
    np.testing.assert_allclose(refitter(rw).score(0, draws, [0], seed=0)[0], pointwise.loc["1", "rw"], rtol=1e-12)
    trials_1 = jax.tree_util.tree_map(lambda a: a[0], rw.data.trials(rw.model))
    exact = gauss_hermite_elpd(rw.model, draws, trials_1)
    assert abs(pointwise.loc["1", "rw"] - exact) < 4 * mcse + 0.01, (pointwise.loc["1", "rw"], exact, mcse)
    # the held-out density cannot beat the in-sample one by much: p(y_1 | y_-1) < p(y_1 | y)
    ll = rw.log_likelihood()[..., 0].ravel()
    assert pointwise.loc["1", "rw"] < special.logsumexp(ll) - np.log(ll.size)


def test_integrated_psis_agrees_with_the_exact_refit(fits, psis):
    rw = fits["rw"]
    ll_int = integrated_log_lik(rw, [0], mc_draws=100, seed=0)
    assert ll_int.shape == (1, 300, 1)
    data = _arviz.from_dict(
        {"posterior": {"_": np.zeros((1, 300))}, "log_likelihood": {"choice": ll_int}},
        coords={"unit": [0]},
        dims={"choice": ["unit"]},
    )
    e_int, k_int, _ = _arviz.pointwise_loo(data)
    exact, mcse = refitter(rw).heldout_elpd([[0]], seed=0, mc_draws=100)  # kept if already run
    assert k_int[0] < 1.0  # (0.7 is the usual bar; with 300 draws k itself is noisy)
    # PSIS over only 300 group-level draws: measured 0.06 to 0.2 here (at most 0.16 over 4
    # participants with 4 x 1000 draws, README)
    assert abs(e_int[0] - exact[0]) < 0.3, (e_int[0], k_int[0], exact[0], mcse[0], psis[1].loc["1", "rw"])


def test_kfold_by_participant(fits, psis):
    rw = fits["rw"]
    table, pointwise = quiet(
        brl.compare, {"rw": rw, "rw_again": rw}, ic="kfold", k=2, return_pointwise=True, progress_bar=False
    )
    assert list(table.columns) == COLUMNS
    assert (table["method"] == "kfold").all() and (table["n_refit"] == 2).all()
    assert table.loc["rw_again", "elpd_diff"] == 0 and table["weight_pseudo_bma"].tolist() == [0.5, 0.5]
    folds = table.attrs["details"]["rw"]["folds"]
    assert sorted(sum(folds, [])) == [str(i) for i in range(1, 7)] and [len(f) for f in folds] == [3, 3]
    assert np.isfinite(pointwise.to_numpy()).all()
    assert (table["p"] > 0).all()  # held-out prediction is worse than in-sample prediction
    assert 0 < table.loc["rw", "mcse_refit"] < 0.3
    # leaving out half the participants costs little here: close to PSIS-LOO
    assert (abs(pointwise["rw"] - psis[1]["rw"]) < 2.5).all()
    kept = brl.participant_elpd({"rw": rw, "rw_again": rw}, "kfold", k=2, progress_bar=False)
    assert kept.equals(pointwise)  # the refits were kept with the fit, not run again


# --- random-effects BMS -------------------------------------------------------------------------


def test_bms_identical_evidence_gives_equal_frequencies_and_a_high_omnibus_risk():
    lme = np.tile(np.linspace(-50, -20, 20)[:, None], (1, 3))
    res = brl.bms(pd.DataFrame(lme, columns=["a", "b", "c"]))
    np.testing.assert_allclose(res.alpha, 1 + 20 / 3)
    np.testing.assert_allclose(res.expected_frequency, 1 / 3)
    np.testing.assert_allclose(res.exceedance, 1 / 3, atol=1e-8)
    np.testing.assert_allclose(res.protected_exceedance, 1 / 3, atol=1e-8)
    np.testing.assert_allclose(res.responsibilities, 1 / 3)
    assert res.bor > 0.9  # no evidence for a difference: the null is favoured
    np.testing.assert_allclose(res.free_energy_null, lme[:, 0].sum())
    assert res.free_energy < res.free_energy_null
    bigger = brl.bms(np.zeros((200, 3)))
    assert bigger.bor > res.bor  # and more so with more participants
    assert list(res.table().columns) == ["alpha", "expected_frequency", "exceedance", "protected_exceedance"]


def test_bms_one_model_overwhelmingly_better():
    lme = np.zeros((15, 3))
    lme[:, 1:] = -50.0
    res = brl.bms(lme)
    assert list(res.alpha.index) == ["model_0", "model_1", "model_2"]
    np.testing.assert_allclose(res.alpha, [16, 1, 1], atol=1e-8)
    np.testing.assert_allclose(res.expected_frequency, [16 / 18, 1 / 18, 1 / 18], atol=1e-8)
    assert res.exceedance["model_0"] > 0.9999 and res.protected_exceedance["model_0"] > 0.9999
    assert res.bor < 1e-4
    np.testing.assert_allclose(res.responsibilities["model_0"], 1.0)


def test_bms_one_participant_by_hand():
    # L = [0, 0]: g = [1/2, 1/2], alpha = [3/2, 3/2], E[log r] = psi(3/2) - psi(3) = -0.886294...
    # F1 = E[log joint] + H[q(r)] + H[q(m)] = -0.886294 - 0.048426 + log 2 = -0.241564; F0 = 0
    res = brl.bms(np.zeros((1, 2)))
    np.testing.assert_allclose(res.alpha, [1.5, 1.5])
    np.testing.assert_allclose(res.free_energy, -0.2415644753, atol=1e-9)
    np.testing.assert_allclose(res.bor, 1 / (1 + np.exp(-0.2415644753)), atol=1e-9)
    np.testing.assert_allclose(res.exceedance, [0.5, 0.5])


def _exact_two_model_posterior(lme, grid=20001):
    """Exact random-effects posterior of r1 (two models, flat prior) on a grid: mean, P(r1 > 1/2), log evidence."""
    r = np.linspace(0, 1, grid)[1:-1]
    log_post = special.logsumexp(
        np.stack([np.log(r)[:, None] + lme[None, :, 0], np.log1p(-r)[:, None] + lme[None, :, 1]]), axis=0
    ).sum(axis=1)
    top = log_post.max()
    dens = np.exp(log_post - top)
    z = integrate.trapezoid(dens, r)
    mean = integrate.trapezoid(r * dens, r) / z
    xp = integrate.trapezoid(np.where(r > 0.5, dens, 0.0), r) / z
    return mean, xp, np.log(z) + top


def test_bms_against_the_exact_two_model_posterior(rng):
    lme = rng.normal(0.0, 1.5, size=(25, 2))
    lme[:17, 0] += 2.0  # most participants favour model 0, moderately
    res = brl.bms(lme)
    mean, xp, log_z1 = _exact_two_model_posterior(lme)
    assert abs(res.expected_frequency.iloc[0] - mean) < 0.03
    assert abs(res.exceedance.iloc[0] - xp) < 0.03
    assert res.free_energy <= log_z1 + 1e-9  # a lower bound of the exact log evidence...
    assert log_z1 - res.free_energy < 0.5  # ...and a tight one
    exact_bor = 1 / (1 + np.exp(log_z1 - res.free_energy_null))
    assert exact_bor <= res.bor < exact_bor + 0.1  # from a lower bound: conservative, and close
    # with two models the exceedance probability is a regularised incomplete beta function
    np.testing.assert_allclose(res.exceedance.iloc[0], 1 - special.betainc(*res.alpha, 0.5), rtol=1e-12)


def test_exceedance_quadrature_agrees_with_sampling():
    for alpha in ([3.0, 2.0, 1.5], [10.0, 9.0, 2.0, 1.0], [40.0, 35.0, 30.0, 5.0, 1.2]):
        exact = exceedance_exact(alpha)
        sampled = exceedance_sampled(alpha, n_samples=200_000, seed=1)
        np.testing.assert_allclose(exact.sum(), 1.0, atol=1e-9)
        se = np.sqrt(exact * (1 - exact) / 200_000)
        assert np.all(np.abs(exact - sampled) < 5 * se + 1e-6), (alpha, exact, sampled)
    res = brl.bms(np.array([[0.0, -1.0, -2.0]] * 5), exceedance="sample", n_samples=200_000, seed=3)
    np.testing.assert_allclose(res.exceedance, exceedance_exact(res.alpha), atol=0.01)


def test_bms_validates_its_input():
    with pytest.raises(ValueError, match="at least two models"):
        brl.bms(np.zeros((4, 1)))
    with pytest.raises(ValueError, match="2-D"):
        brl.bms(np.zeros(4))
    bad = pd.DataFrame({"rw": [0.0, np.nan], "sticky": [0.0, 0.0]}, index=["s1", "s2"])
    with pytest.raises(ValueError, match="participant 's2', model 'rw'"):
        brl.bms(bad)
    with pytest.raises(ValueError, match="alpha0"):
        brl.bms(np.zeros((3, 2)), alpha0=0)


# --- statistical tier ---------------------------------------------------------------------------


def _design(kappa, seed):
    """16 participants x 80 trials; group-level alpha, beta and the given stickiness."""
    model = brl.models.rescorla_wagner_perseveration()
    task = brl.tasks.bandit([0.7, 0.3], n_trials=80)
    rng = np.random.default_rng(seed)
    params = {
        "alpha": rng.uniform(0.2, 0.5, 16),
        "beta": rng.uniform(1.5, 3.0, 16),
        "kappa": kappa + rng.normal(0, 0.3, 16) * (kappa != 0),
    }
    return brl.simulate(model, params, task=task, seed=seed)


@pytest.mark.slow
def test_compare_and_bms_select_the_generating_model_with_a_nested_control():
    settings = dict(num_warmup=300, num_samples=500, num_chains=2, progress_bar=False, check=False)
    models = {"rw": brl.models.rescorla_wagner(), "sticky": brl.models.rescorla_wagner_perseveration()}
    # generated with stickiness: the sticky model must win clearly, by compare and by BMS
    df = _design(2.0, seed=11)
    fits = {k: brl.fit(m, df, seed=0, **settings) for k, m in models.items()}
    table, elpd = quiet(brl.compare, fits, return_pointwise=True, progress_bar=False)
    print(table.to_string())
    assert table.index[0] == "sticky" and not table["warning"].any()
    assert table.loc["rw", "elpd_diff"] < -3 * table.loc["rw", "dse"]
    assert table.loc["sticky", "weight_stacking"] > 0.95
    res = brl.bms(elpd)
    print(res)
    assert res.protected_exceedance["sticky"] > 0.95 and res.expected_frequency["sticky"] > 0.7
    # grouped K-fold (half the participants held out in each of 2 refits) ranks them the same way
    kfold = quiet(brl.compare, fits, ic="kfold", k=2, progress_bar=False)
    print(kfold.to_string())
    assert kfold.index[0] == "sticky" and kfold.loc["rw", "elpd_diff"] < -2 * kfold.loc["rw", "dse"]
    # control: generated without stickiness (kappa = 0), where the sticky model only adds a
    # parameter: it must not win clearly, and BMS must not be confident in it
    df0 = _design(0.0, seed=12)
    fits0 = {k: brl.fit(m, df0, seed=0, **settings) for k, m in models.items()}
    table0, elpd0 = quiet(brl.compare, fits0, return_pointwise=True, progress_bar=False)
    print(table0.to_string())
    worse = table0.index[1]
    assert abs(table0.loc[worse, "elpd_diff"]) < 2 * table0.loc[worse, "dse"] + 1.0
    res0 = brl.bms(elpd0)
    print(res0)
    assert res0.protected_exceedance["sticky"] < 0.9
    np.testing.assert_allclose(brl.participant_elpd(fits0, progress_bar=False), elpd0)


@pytest.mark.slow
def test_masked_refit_equals_a_fit_without_the_participant():
    """The refit masks the held-out participant; a fit of the table without them must give the
    same group posterior, hence the same held-out elpd (up to Monte Carlo error)."""
    settings = dict(num_warmup=400, num_samples=1000, num_chains=2, progress_bar=False, check=False)
    model = brl.models.rescorla_wagner()
    df = brl.datasets.load("bandit2arm")
    df = df[df["participant"] <= 8]
    f = brl.fit(model, df, seed=0, **settings)
    masked, _ = refitter(f).group_draws([2], seed=0)
    removed_fit = brl.fit(model, df[df["participant"] != 3], seed=5, **settings)
    removed = {k: np.asarray(removed_fit.posterior[k]) for k in masked}
    for k in masked:
        se = np.sqrt(masked[k].var() / _arviz.ess_array(masked[k]) + removed[k].var() / _arviz.ess_array(removed[k]))
        assert abs(masked[k].mean() - removed[k].mean()) < 4 * se + 0.01, k
    trials_3 = jax.tree_util.tree_map(lambda a: a[2], f.data.trials(model))
    est, mcse = refitter(f).score(2, masked, [2], seed=0, mc_draws=200)
    exact_masked = gauss_hermite_elpd(model, masked, trials_3)
    exact_removed = gauss_hermite_elpd(model, removed, trials_3)
    print("masked MC", est, mcse, "masked quadrature", exact_masked, "removed quadrature", exact_removed)
    assert abs(est - exact_masked) < 4 * mcse + 0.01
    assert abs(exact_masked - exact_removed) < 0.1
