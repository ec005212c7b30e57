"""SVI and MAP/Laplace fits, robust NUTS initialisation, resuming a NUTS fit (fast tier)."""

import functools
import re
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpyro.infer import MCMC, NUTS
from small_fits import small_fit, table

import bayesrl as brl
from bayesrl import _arviz
from bayesrl import data as data_mod
from bayesrl.approx import elbo_convergence, laplace_precision
from bayesrl.hierarchy import hierarchical_model, resolve_priors
from bayesrl.inference import INIT_STRATEGIES, InitError, find_initial_params, init_around_median
from bayesrl.transforms import phi_approx

QUIET = dict(seed=0, progress_bar=False, check=False)


@functools.cache
def approx_fit(method, guide="normal", num_steps=40):
    """A fit of the small table (5 participants x 40 trials); 40 SVI steps do not converge."""
    kw = dict(guide=guide, num_steps=num_steps) if method == "svi" else {}
    return brl.fit(brl.models.rescorla_wagner(), table(), method=method, num_samples=200, **QUIET, **kw)


# --- SVI and MAP: the same Fit as NUTS ---------------------------------------------------------
@pytest.mark.parametrize("method, guide", [("map", None), ("svi", "lowrank")])
def test_approximation_gives_the_same_fit_object(method, guide, tmp_path):
    fit = approx_fit(method, guide)
    nuts = small_fit()
    assert fit.method == method and nuts.method == "nuts"
    assert set(fit.posterior.data_vars) == set(nuts.posterior.data_vars)
    post = fit.posterior
    assert post["alpha"].dims == ("chain", "draw", "participant") and post["alpha"].shape == (1, 200, 5)
    assert post["alpha_group"].shape == (1, 200)
    assert list(post["participant"].values) == list(nuts.posterior["participant"].values)
    # deterministic sites are computed by the model from each draw
    expected = phi_approx(post["alpha_mu"].values[..., None] + post["alpha_sigma"].values[..., None] * post["alpha_z"])
    np.testing.assert_allclose(post["alpha"].values, expected, rtol=1e-6)
    ll = _arviz.group(fit.idata, "log_likelihood")["choice"]
    assert ll.shape == (1, 200, 5, 40) and np.all(np.isfinite(ll.values))
    stats = _arviz.group(fit.idata, "sample_stats")
    assert np.all(np.isfinite(stats["log_weight"].values))

    table_ = fit.summary()
    assert list(table_.columns) == list(nuts.summary().columns)
    assert table_[["ess_bulk", "r_hat"]].isna().all().all() and not nuts.summary()["r_hat"].isna().any()
    assert "approximation" in table_.attrs["note"]
    diag = fit.diagnostics(warn=False)
    text = str(diag)
    assert text.startswith("approximation:") and "R-hat and ESS do not apply" in text and "Pareto k" in text
    assert np.isfinite(diag.approximation["pareto_k"])
    assert method in repr(fit)

    if method == "map":
        fit.posterior_predictive("one_step", num_draws=20)
        assert fit.latents(num_draws=10).shape[0] > 0
    path = tmp_path / f"{method}.nc"
    fit.save(path)
    back = brl.load_fit(path)
    assert back.method == method
    np.testing.assert_allclose(back.summary()["mean"], table_["mean"])
    assert str(back.diagnostics(warn=False)) == text
    with pytest.raises(ValueError, match="only NUTS fits can be resumed"):
        back.resume(10)


def test_map_fit_reports_the_mode_and_a_positive_definite_hessian():
    info = approx_fit("map").metadata["sampler"]
    assert info["converged"] and info["hessian_positive_definite"] and info["hessian_min_eigenvalue"] > 0
    assert info["max_abs_gradient"] < 1e-2


def test_compare_accepts_approximations_without_refitting():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table_ = brl.compare({"map": approx_fit("map"), "svi": approx_fit("svi", "lowrank")})
    assert set(table_.index) == {"map", "svi"}
    assert (table_["n_refit"] == 0).all()


def test_unconverged_svi_warns_with_advice():
    fit = approx_fit("svi", "normal")
    assert fit.metadata["sampler"]["elbo_converged"] is False
    assert "NOT converged" in str(fit.diagnostics(warn=False))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit.diagnostics()
    assert any(re.search(r"SVI has not converged.*num_steps", str(w.message)) for w in caught)
    # converged ELBOs are checked on the example data in test_inference_agreement.py (slow tier)


def test_elbo_convergence_check_on_known_sequences(rng):
    noise = rng.normal(0, 1.0, 2000)
    flat = elbo_convergence(1000 + noise)
    assert abs(flat["rel_change"]) < max(1e-3, flat["rel_noise"])
    falling = elbo_convergence(np.linspace(3000, 1000, 2000) + noise)
    assert falling["rel_change"] > 10 * max(1e-3, falling["rel_noise"])  # still improving: not converged


def test_laplace_precision_fixes_an_indefinite_hessian():
    h = np.array([[2.0, 0.0], [0.0, -0.5]])
    precision, info = laplace_precision(h)
    assert not info["positive_definite"] and info["min_eigenvalue"] == -0.5 and info["worst_index"] == 1
    np.testing.assert_allclose(precision, [[2.0, 0.0], [0.0, 0.5]])
    pd_, info = laplace_precision([[2.0, 0.5], [0.5, 1.0]])
    assert info["positive_definite"] and np.allclose(pd_, [[2.0, 0.5], [0.5, 1.0]])


def test_bad_method_and_guide_are_refused():
    with pytest.raises(ValueError, match="method must be"):
        brl.fit(brl.models.rescorla_wagner(), table(), method="vi")
    with pytest.raises(ValueError, match="guide must be one of"):
        brl.fit(brl.models.rescorla_wagner(), table(), method="svi", guide="flow")


# --- robust initialisation ---------------------------------------------------------------------
class _Q(NamedTuple):
    q: jnp.ndarray


def _naive_softmax_model():
    """A user's model with a hand-written softmax: exp(beta * q) overflows for large beta * q."""

    def policy(state, p, trial):
        w = jnp.exp(p.beta * state.q)
        return jnp.log(w / w.sum())

    def update(state, p, trial):
        return _Q(state.q.at[trial.choice].add(p.alpha * (trial.outcome - state.q[trial.choice])))

    # outcomes are points in the thousands, so the prior puts beta near exp(-6) = 0.0025
    beta = brl.positive(prior=brl.Prior(mu_loc=-6.0, mu_scale=1.0, sigma_scale=0.5))
    return brl.Model(
        name="naive_softmax",
        params={"alpha": brl.unit(), "beta": beta},
        init_state=lambda n, p: _Q(jnp.zeros(n)),
        policy=policy,
        update=update,
    )


def _points_table(n_participants, n_trials, scale=10_000.0):
    df = brl.datasets.load("bandit2arm")
    df = df[(df["participant"] <= n_participants) & (df["trial"] <= n_trials)].copy()
    df["outcome"] = df["outcome"] * scale
    df["participant"] = df["participant"].map(lambda i: f"s{i}")
    return df


def test_default_init_fails_where_the_prior_centred_start_works():
    model, df = _naive_softmax_model(), _points_table(20, 20)
    dataset = data_mod.prepare(df, model)
    args = (model, dataset.trials(model), resolve_priors(model, None), frozenset())
    # NumPyro's default start, uniform(-2, 2) on the unconstrained scale, ignores the prior's
    # location: beta * outcome overflows for some participant in every one of its 100 tries (NumPyro
    # raises at its first, eager, try when distribution validation is on, its default)
    with pytest.raises((RuntimeError, ValueError), match="Cannot find valid initial parameters|invalid logits"):
        MCMC(NUTS(hierarchical_model), num_warmup=5, num_samples=5, progress_bar=False).run(
            jax.random.PRNGKey(0), *args
        )
    name, params = find_initial_params(hierarchical_model, args, jax.random.PRNGKey(0), 2)
    assert name == INIT_STRATEGIES[0][0] and params["beta_mu"].shape == (2,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a 30-draw run warns about ESS
        fit = brl.fit(model, df, num_warmup=20, num_samples=20, num_chains=2, **QUIET)
    assert fit.metadata["sampler"]["init_strategy"] == INIT_STRATEGIES[0][0]
    assert np.all(np.isfinite(fit.posterior["beta"].values))


def test_init_around_median_is_uniform_within_two_units_of_the_prior_median():
    import numpyro
    import numpyro.distributions as dist
    from numpyro import handlers

    def model():
        numpyro.sample("a", dist.Normal(5.0, 1e-6))
        numpyro.sample("b", dist.LogNormal(np.log(3.0), 1e-6).expand([2000]).to_event(1))  # positive: log
        numpyro.sample("z", dist.Normal(0.0, 1e-6).expand([2000]).to_event(1))
        numpyro.sample("y", dist.Normal(0.0, 1.0), obs=0.3)

    def start(seed):
        seeded = handlers.seed(model, jax.random.PRNGKey(seed))
        tr = handlers.trace(handlers.substitute(seeded, substitute_fn=init_around_median(radius=2.0))).get_trace()
        return {k: np.asarray(v["value"]) for k, v in tr.items()}

    starts = [start(seed) for seed in range(40)]
    a = np.array([s["a"] for s in starts])
    assert np.all(np.abs(a - 5.0) < 2.0) and a.std() > 0.8  # dispersed across chains: uniform sd 1.15
    z, log_b = starts[0]["z"], np.log(starts[0]["b"] / 3.0)
    for u in (z, log_b):
        assert np.all(np.abs(u) < 2.0 + 1e-3)
        assert abs(u.mean()) < 0.1 and abs(u.var() - 4 / 3) < 0.15  # uniform(-2, 2): variance 4/3
    assert float(starts[0]["y"]) == 0.3  # observed sites untouched


def test_exact_prior_medians_of_wrapped_univariate_priors():
    import numpyro.distributions as dist

    from bayesrl.inference import _exact_median

    np.testing.assert_allclose(_exact_median(dist.HalfCauchy(2.0).expand([3]).to_event(1), (3,)), [2.0] * 3)
    np.testing.assert_allclose(_exact_median(dist.Normal(jnp.array([1.0, -4.0]), 3.0).to_event(1), (2,)), [1, -4])
    np.testing.assert_allclose(_exact_median(dist.HalfNormal(1.0).mask(False), (4,)), [0.67449] * 4, rtol=1e-5)
    assert _exact_median(dist.Dirichlet(jnp.ones(3)), (3,)) is None  # multivariate: 15 prior draws instead


def test_nuts_chains_start_apart_around_the_prior_median_and_map_at_it():
    model, df = _naive_softmax_model(), _points_table(6, 20)
    args = (model, data_mod.prepare(df, model).trials(model), resolve_priors(model, None), frozenset())
    name, params = find_initial_params(hierarchical_model, args, jax.random.PRNGKey(3), 8)
    assert name == INIT_STRATEGIES[0][0]
    mu = np.asarray(params["beta_mu"])  # the prior: Normal(-6, 1), median -6 (exact: inverse CDF)
    assert mu.shape == (8,) and np.all(np.abs(mu + 6.0) < 2.0) and mu.std() > 0.5
    z = np.asarray(params["alpha_z"])  # offsets: prior median 0
    assert z.shape == (8, 6) and np.all(np.abs(z) < 2.0) and z.std() > 0.8
    sigma = np.asarray(params["beta_sigma"])  # unconstrained: log of a HalfNormal(0.5), median 0.5 * 0.6745
    assert np.all(np.abs(sigma - np.log(0.5 * 0.67449)) < 2.0) and sigma.std() > 0.5
    name, params = find_initial_params(hierarchical_model, args, jax.random.PRNGKey(3), 8, dispersed=False)
    assert name == "prior median"  # the exact median: every chain at the same point
    np.testing.assert_array_equal(np.asarray(params["alpha_z"]), 0.0)
    np.testing.assert_allclose(np.asarray(params["beta_mu"]), -6.0, rtol=1e-6)


def test_init_failure_names_the_participant():
    model, df = _naive_softmax_model(), _points_table(3, 10)
    df.loc[df["participant"] == "s2", "outcome"] *= 1e296  # beta * q overflows from any start
    with pytest.raises(InitError, match=r"participant 's2' is not finite at trials \[\d"):
        brl.fit(model, df, num_warmup=5, num_samples=5, num_chains=1, **QUIET)


# --- resume ------------------------------------------------------------------------------------
def test_resume_after_save_and_load_continues_without_warmup(tmp_path):
    base = small_fit()
    path = tmp_path / "fit.nc"
    base.save(path)
    loaded = brl.load_fit(path)
    more = loaded.resume(30, progress_bar=False, check=False)
    post, old = more.posterior, base.posterior
    assert post["alpha"].shape == (2, 130, 5) and more.metadata["sampler"]["num_samples"] == 130
    assert more.metadata["sampler"]["resumed"][0]["num_samples"] == 30
    np.testing.assert_array_equal(post["alpha_mu"].values[:, :100], old["alpha_mu"].values)
    # no warm-up: every new draw uses the step size adapted in the first run
    step = _arviz.group(more.idata, "sample_stats")["step_size"].values
    np.testing.assert_array_equal(step[:, 100:], np.repeat(step[:, 99:100], 30, axis=1))
    # the chains moved on (new draws), and their log-likelihood was computed for them
    assert not np.allclose(post["alpha_mu"].values[:, 100:], post["alpha_mu"].values[:, 99:100])
    ll = _arviz.group(more.idata, "log_likelihood")["choice"].values
    assert ll.shape == (2, 130, 5, 40) and np.all(ll[:, 100:][:, :, base.data.arrays["valid"]] < 0)
    assert base.posterior["alpha"].shape == (2, 100, 5)  # the original fit is unchanged
