"""brl.fit end to end on small settings: the ArviZ object, tables, diagnostics, save/load."""

import copy
import json
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import bayesrl as brl
from bayesrl import _arviz, engine

SMALL = dict(num_warmup=150, num_samples=150, num_chains=2, progress_bar=False)


@pytest.fixture(scope="module")
def small_df():
    df = brl.datasets.load("bandit2arm")
    df = df[df["participant"].isin([1, 2, 3, 4, 5, 6])].copy()
    df["participant"] = df["participant"].map(lambda i: f"sub-{i:02d}")  # string ids must survive
    df.loc[df.index[5], ["choice", "outcome"]] = np.nan  # one masked trial
    return df.drop(index=df.index[-10:])  # ragged: last participant has 90 trials


@pytest.fixture(scope="module")
def small_fit(small_df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small runs may warn about ESS
        return brl.fit(brl.models.rescorla_wagner(), small_df, seed=1, **SMALL)


def test_idata_groups_dims_and_coords(small_fit, small_df):
    idata = small_fit.idata
    assert {"posterior", "log_likelihood", "sample_stats", "observed_data", "constant_data"} <= set(
        _arviz.groups(idata)
    )
    post = _arviz.group(idata, "posterior")
    ids = [f"sub-{i:02d}" for i in range(1, 7)]
    assert list(post["participant"].values) == ids
    for p in ("alpha", "beta"):
        assert post[p].dims == ("chain", "draw", "participant")
        assert post[f"{p}_z"].dims == ("chain", "draw", "participant")
        for s in ("mu", "sigma", "group"):
            assert post[f"{p}_{s}"].dims == ("chain", "draw")
    assert post["alpha"].shape == (2, 150, 6)
    assert float(post["alpha"].min()) >= 0 and float(post["alpha"].max()) <= 1
    assert float(post["beta"].max()) <= 5
    ll = _arviz.group(idata, "log_likelihood")["choice"]
    assert ll.dims == ("chain", "draw", "participant", "trial") and ll.shape == (2, 150, 6, 100)
    obs = _arviz.group(idata, "observed_data")["choice"]
    assert int((obs.values < 0).sum()) == 1 + 10  # one masked trial + ten padding cells
    stats = _arviz.group(idata, "sample_stats")
    assert {"diverging", "lp", "acceptance_rate", "n_steps", "tree_depth", "step_size"} <= set(stats.data_vars)


def test_log_likelihood_matches_engine_at_a_draw(small_fit):
    post = small_fit.posterior
    model, data = small_fit.model, small_fit.data
    params = model.make_params({p: jnp.asarray(post[p].values[1, 17]) for p in model.param_names})
    expected = np.asarray(engine.log_likelihood(model, params, data.trials(model)))
    got = _arviz.group(small_fit.idata, "log_likelihood")["choice"].values[1, 17]
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert np.all(got[~data.arrays["valid"]] == 0)


def test_summary_participants_and_diagnostics(small_fit):
    table = small_fit.summary()
    assert list(table.index) == ["alpha_group", "alpha_mu", "alpha_sigma", "beta_group", "beta_mu", "beta_sigma"]
    assert list(table.columns) == [
        "mean",
        "sd",
        "hdi_3%",
        "hdi_97%",
        "mcse_mean",
        "mcse_sd",
        "ess_bulk",
        "ess_tail",
        "r_hat",
    ]
    assert (table["hdi_3%"] <= table["mean"]).all() and (table["mean"] <= table["hdi_97%"]).all()
    people = small_fit.participants()
    assert people.index.name == "participant" and list(people.index) == [f"sub-{i:02d}" for i in range(1, 7)]
    assert people.loc["sub-01", "n_masked"] == 1 and people.loc["sub-06", "n_trials"] == 90
    post = small_fit.posterior
    np.testing.assert_allclose(people["alpha_mean"].to_numpy(), post["alpha"].mean(("chain", "draw")).values)
    assert (people["alpha_hdi_lower"] <= people["alpha_mean"]).all()
    diag = small_fit.diagnostics(warn=False)
    assert diag.num_draws == 300 and diag.divergences >= 0
    assert 0.99 < diag.max_rhat < 1.2 and diag.min_ess_bulk > 10
    assert "divergences" in str(diag)


def test_diagnostics_warn_loudly_on_a_short_run(small_df):
    with pytest.warns(UserWarning, match="effective sample size|R-hat"):
        brl.fit(
            brl.models.rescorla_wagner(),
            small_df,
            num_warmup=10,
            num_samples=10,
            num_chains=2,
            seed=0,
            progress_bar=False,
        )


def test_loo_and_waic_by_participant_and_trial(small_fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loo_p = small_fit.loo()
        loo_t = small_fit.loo(unit="trial")
    assert len(np.asarray(loo_p.pareto_k)) == 6
    # every valid trial except those whose likelihood is the same in every draw: each
    # participant's first choice (equal initial values) and the few trials where the values
    # happen to be equal again (e.g. +1 then -1 on each option gives Q = -alpha^2 for both)
    valid = small_fit.data.arrays["valid"]
    assert int(valid.sum()) == 589
    ll_t = small_fit.log_likelihood("trial").reshape(300, -1)
    flat = np.ptp(ll_t, axis=0) == 0
    assert flat.sum() >= 6 and np.allclose(ll_t[0, flat], np.log(0.5))
    assert len(np.asarray(loo_t.pareto_k)) == 589 - flat.sum()
    assert np.all(np.isfinite(np.asarray(loo_t.pareto_k)))
    w = small_fit.waic()
    ll = small_fit.log_likelihood("participant")
    assert ll.shape == (2, 150, 6) and w["n"] == 6
    # elpd cannot exceed the log mean likelihood; both are near the total log-likelihood
    assert w["elpd_waic"] < 0 and abs(w["elpd_waic"] - _arviz.elpd_estimate(loo_p)[0]) < 5
    with pytest.raises(ValueError, match="unit"):
        small_fit.waic(unit="block")


def test_save_load_round_trip(small_fit, tmp_path):
    path = tmp_path / "sub" / "fit.nc"
    small_fit.save(path)
    assert not list((tmp_path / "sub").glob("*.tmp"))
    (tmp_path / "ref").write_text("")
    assert path.stat().st_mode & 0o777 == (tmp_path / "ref").stat().st_mode & 0o777  # permissions as any new file
    again = brl.load_fit(path)
    assert again.metadata == json.loads(json.dumps(small_fit.metadata))
    assert again.model.name == "rescorla_wagner"
    for g in ("posterior", "log_likelihood", "sample_stats", "observed_data", "constant_data"):
        a, b = _arviz.group(small_fit.idata, g), _arviz.group(again.idata, g)
        for v in a.data_vars:
            np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=f"{g}/{v}")
    assert list(again.data.participants) == list(small_fit.data.participants)
    for k, v in small_fit.data.arrays.items():
        np.testing.assert_array_equal(again.data.arrays[k], v)
    pd.testing.assert_frame_equal(again.summary(), small_fit.summary())
    pd.testing.assert_frame_equal(again.participants(), small_fit.participants())


def test_load_fit_rejects_files_that_are_not_fits(tmp_path):
    with pytest.raises(FileNotFoundError):
        brl.load_fit(tmp_path / "nope.nc")
    import xarray as xr

    xr.Dataset({"a": ("x", [1, 2])}).to_netcdf(tmp_path / "other.nc")
    with pytest.raises(ValueError, match="not a bayesrl fit"):
        brl.load_fit(tmp_path / "other.nc")
    (tmp_path / "text.nc").write_text("participant,choice\n1,1\n")
    with pytest.raises(ValueError, match="not a readable netCDF"):
        brl.load_fit(tmp_path / "text.nc")


def test_same_seed_same_draws(small_df):
    kw = dict(num_warmup=30, num_samples=20, num_chains=2, progress_bar=False, check=False)
    a = brl.fit(brl.models.rescorla_wagner(), small_df, seed=5, **kw)
    b = brl.fit(brl.models.rescorla_wagner(), small_df, seed=5, **kw)
    np.testing.assert_array_equal(a.posterior["alpha"].values, b.posterior["alpha"].values)
    chains = a.posterior["alpha"].values
    assert not np.array_equal(chains[0], chains[1])  # chains get their own keys


@pytest.mark.parametrize("chain_method", ["parallel", "vectorized"])
def test_same_shaped_data_reuse_the_compiled_sampler(small_df, chain_method):
    """A second data set of the same shape (other choices and outcomes) compiles nothing: every
    program it needs comes from JAX's persistent cache (the data are arguments, not constants)."""
    if not jax.config.jax_compilation_cache_dir:
        pytest.skip("JAX's persistent compilation cache is off")
    kw = dict(num_warmup=10, num_samples=10, num_chains=4, chain_method=chain_method, progress_bar=False, check=False)
    model = brl.models.rescorla_wagner()
    brl.fit(model, small_df, seed=2, **kw)
    other = small_df.copy()
    order = np.random.default_rng(0).permutation(len(other))
    other[["choice", "outcome"]] = other[["choice", "outcome"]].to_numpy()[order]  # same shape, other values
    events = []

    def listen(event, **_):
        events.append(event)

    jax.monitoring.register_event_listener(listen)
    try:
        fit = brl.fit(model, other, seed=2, **kw)
    finally:
        jax.monitoring.unregister_event_listener(listen)
    assert fit.metadata["sampler"]["chain_method"] == chain_method
    requests = events.count("/jax/compilation_cache/compile_requests_use_cache")
    hits = events.count("/jax/compilation_cache/cache_hits")
    assert requests > 0 and hits == requests, (requests, hits)


def test_priors_and_centered_are_validated(small_df):
    model = brl.models.rescorla_wagner()
    with pytest.raises(ValueError, match=r"unknown parameter 'alpah'.*\['alpha', 'beta'\]"):
        brl.fit(model, small_df, priors={"alpah": brl.Prior()}, **SMALL)
    with pytest.raises(ValueError, match="unknown fields"):
        brl.fit(model, small_df, priors={"alpha": {"sigma": 1.0}}, **SMALL)
    with pytest.raises(ValueError, match="positive"):
        brl.fit(model, small_df, priors={"alpha": {"sigma_scale": 0.0}}, **SMALL)
    with pytest.raises(ValueError, match="centered"):
        brl.fit(model, small_df, centered=["gamma"], **SMALL)
    with pytest.raises(TypeError, match="bayesrl.Model"):
        brl.fit("rescorla_wagner", small_df, **SMALL)
    with pytest.raises(ValueError, match="num_samples"):
        brl.fit(model, small_df, num_samples=0)


def test_prior_override_and_centred_sites_take_effect(small_df):
    f = brl.fit(
        brl.models.rescorla_wagner(),
        small_df,
        priors={"beta": {"mu_loc": -3.0, "mu_scale": 0.01}},
        centered=["alpha"],
        seed=0,
        check=False,
        **SMALL,
    )
    post = f.posterior
    assert "alpha_raw" in post and "alpha_z" not in post and "beta_z" in post
    assert abs(float(post["beta_mu"].mean()) + 3.0) < 0.05  # a tight prior dominates
    assert f.metadata["model"]["params"]["beta"]["prior"]["mu_loc"] == -3.0


def test_custom_model_fits_and_loads_with_model_argument(small_df, tmp_path):
    from typing import NamedTuple

    class Q(NamedTuple):
        q: jnp.ndarray

    custom = brl.Model(
        name="my_rw",
        params={"alpha": brl.unit(), "beta": brl.positive(upper=10)},
        init_state=lambda n, p: Q(jnp.zeros(n)),
        policy=lambda s, p, t: p.beta * s.q,
        update=lambda s, p, t: Q(s.q.at[t.choice].add(p.alpha * (t.outcome - s.q[t.choice]))),
    )
    f = brl.fit(custom, small_df, seed=0, check=False, num_warmup=20, num_samples=20, num_chains=1, progress_bar=False)
    f.save(tmp_path / "c.nc")
    loaded = brl.load_fit(tmp_path / "c.nc")
    assert loaded.model is None and loaded.summary().shape[0] == 6
    assert brl.load_fit(tmp_path / "c.nc", model=custom).model is custom
    with pytest.raises(ValueError, match="parameters"):
        brl.load_fit(tmp_path / "c.nc", model=brl.models.rescorla_wagner_asymmetric())


def test_mixed_type_participant_ids_are_kept_as_strings_and_saved(small_df, tmp_path):
    df = small_df.copy()
    df["participant"] = df["participant"].map(
        {"sub-01": 7, "sub-02": "s07", "sub-03": 3, "sub-04": "x", "sub-05": 5, "sub-06": "y"}
    )
    f = brl.fit(
        brl.models.rescorla_wagner(),
        df,
        num_warmup=10,
        num_samples=10,
        num_chains=1,
        seed=0,
        progress_bar=False,
        check=False,
    )
    assert list(f.participants().index) == ["7", "s07", "3", "x", "5", "y"]
    f.save(tmp_path / "m.nc")
    assert list(brl.load_fit(tmp_path / "m.nc").participants().index) == ["7", "s07", "3", "x", "5", "y"]


def test_a_single_chain_is_reported_without_a_nan_rhat_warning(small_df):
    f = brl.fit(
        brl.models.rescorla_wagner(),
        small_df,
        num_warmup=20,
        num_samples=20,
        num_chains=1,
        seed=0,
        progress_bar=False,
        check=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        diag = f.diagnostics(warn=False)
    assert any("only one chain" in m for m in diag.messages)
    assert not any("R-hat of" in m for m in diag.messages)


def _fake_ess(worst):
    """``_arviz.ess_rhat`` with ``worst``'s bulk ESS at 50 and every other variable's at 5000."""
    real = _arviz.ess_rhat

    def ess_rhat(idata, names):
        bulk, tail, rhat = real(idata, names)
        bulk = {k: (50.0 if k == worst else 5000.0) for k in bulk}
        return bulk, {k: 5000.0 for k in tail}, {k: 1.0 for k in rhat}

    return ess_rhat


def _diverging(real_group):
    def group(idata, name):
        ds = real_group(idata, name)
        return ds.assign(diverging=ds["diverging"] | True) if name == "sample_stats" else ds

    return group


def test_low_ess_of_a_non_centred_group_parameter_points_to_centering(small_fit, monkeypatch):
    monkeypatch.setattr(_arviz, "ess_rhat", _fake_ess("alpha_mu"))
    (msg,) = small_fit.diagnostics(warn=False).messages
    assert msg.startswith("effective sample size of alpha_mu is 50 (< 400)")
    assert "alpha_mu is a group parameter of 'alpha', sampled non-centred" in msg and 'centered="auto"' in msg
    monkeypatch.setattr(_arviz, "ess_rhat", _fake_ess("alpha"))  # a participant's value: no centring advice
    (msg,) = small_fit.diagnostics(warn=False).messages
    assert "effective sample size of alpha is 50" in msg and "centered" not in msg
    # where the choice from the data kept alpha non-centred, the advice says so instead of suggesting it again
    chosen = copy.copy(small_fit)
    chosen.metadata = {**small_fit.metadata, "sampler": {**small_fit.metadata["sampler"]}}
    chosen.metadata["sampler"]["centering_scores"] = {"alpha": 0.41, "beta": 0.2}
    monkeypatch.setattr(_arviz, "ess_rhat", _fake_ess("alpha_mu"))
    monkeypatch.setattr(_arviz, "group", _diverging(_arviz.group))
    div, ess = chosen.diagnostics(warn=False).messages
    assert 'centered="auto"' not in div and 'centered="auto"' not in ess
    assert "kept non-centred by the choice from the data (score 0.41" in ess and "centered=['alpha']" in ess


def test_divergences_advice_depends_on_what_the_fit_centred(small_df, small_fit, monkeypatch):
    centred = brl.fit(
        brl.models.rescorla_wagner(), small_df, centered=["alpha"], seed=1, check=False, **{**SMALL, "num_samples": 50}
    )
    monkeypatch.setattr(_arviz, "ess_rhat", _fake_ess("alpha_mu"))
    monkeypatch.setattr(_arviz, "group", _diverging(_arviz.group))
    msgs = centred.diagnostics(warn=False).messages
    assert msgs[0].startswith(f"{centred.diagnostics(warn=False).num_draws} divergent transitions")
    assert "samples ['alpha'] centred (as asked)" in msgs[0] and "centered=[]" in msgs[0]
    assert "effective sample size of alpha_mu" in msgs[1] and "group parameter" not in msgs[1]  # already centred
    (div, _) = small_fit.diagnostics(warn=False).messages
    assert "centred" not in div and 'centered="auto" chooses' in div
