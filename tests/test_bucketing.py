"""Trial-count bucketing (fast tier): padded lengths, padded data leave the log density and its
gradient unchanged, nearby trial counts share one compiled sampler, and resuming keeps the
padded shape."""

import functools

import jax
import numpy as np
import pytest
from cases_twostep import twostep_table
from numpyro.infer.util import potential_energy
from small_fits import table

import bayesrl as brl
from bayesrl.data import pad_trials, prepare, trial_bucket
from bayesrl.design import build_design
from bayesrl.hierarchy import resolve_priors
from bayesrl.inference import find_initial_params, model_of_data, pointwise_log_likelihood

TINY = dict(num_warmup=20, num_samples=10, num_chains=2, seed=3, progress_bar=False, check=False)


def test_trial_bucket_rounds_up_a_little():
    got = {n: trial_bucket(n) for n in (1, 4, 5, 31, 32, 33, 40, 97, 98, 100, 101, 150, 200, 201, 1000, 2000)}
    assert got == {
        1: 4, 4: 4, 5: 8, 31: 32, 32: 32, 33: 36, 40: 40, 97: 100, 98: 100, 100: 100,
        101: 104, 150: 152, 200: 200, 201: 208, 1000: 1024, 2000: 2048,
    }  # fmt: skip
    for n in range(1, 5000):
        b = trial_bucket(n)
        assert n <= b < n + max(4, n / 16)
        assert trial_bucket(b) == b  # a bucket is its own bucket
    with pytest.raises(ValueError, match="at least 1"):
        trial_bucket(0)


def test_pad_trials_adds_masked_trials_and_refuses_to_shorten():
    model = brl.models.ts_par4()
    trials = prepare(twostep_table(np.random.default_rng(0)), model).trials(model)
    n_p, n_t = trials.valid.shape
    padded = pad_trials(trials, n_t + 5)
    assert padded.choice.shape == (n_p, n_t + 5, 2) and padded.valid.shape == (n_p, n_t + 5)
    assert not padded.valid[:, n_t:].any() and not padded.block_start[:, n_t:].any()
    for old, new in zip(trials, padded, strict=True):
        np.testing.assert_array_equal(np.asarray(new)[:, :n_t], np.asarray(old))
        assert new.dtype == old.dtype
    assert pad_trials(trials, n_t) is trials
    with pytest.raises(ValueError, match="cannot pad"):
        pad_trials(trials, n_t - 1)


def _density_and_gradient(model, trials, priors, design, length, params):
    numpyro_model, args = model_of_data(model, trials, priors, design=design, trial_length=length)
    return jax.value_and_grad(lambda p: potential_energy(numpyro_model, args, {}, p))(params)


@pytest.mark.parametrize("case", ["blocks and conditions", "two-step"])
def test_padding_leaves_log_density_and_gradient_unchanged(case):
    if case == "two-step":
        model, df, kwargs = brl.models.ts_par4(), twostep_table(np.random.default_rng(1)), {}
    else:
        df = table()
        df["condition"] = np.where(df["trial"] % 3 == 0, "a", "b")
        model, kwargs = brl.models.rescorla_wagner(), {"conditions": {"alpha": "condition"}}
    dataset = prepare(df, model)
    design, dataset = build_design(model, df, dataset, **kwargs)
    trials, priors = dataset.trials(model), resolve_priors(model, None)
    numpyro_model, args = model_of_data(model, trials, priors, design=design)
    _, start = find_initial_params(numpyro_model, args, jax.random.PRNGKey(0), 1)
    keys = iter(jax.random.split(jax.random.PRNGKey(1), 100))
    params = {k: v[0] + 0.3 * jax.random.normal(next(keys), v[0].shape) for k, v in start.items()}  # off the start
    ref_value, ref_grad = _density_and_gradient(model, trials, priors, design, None, params)
    n_t = dataset.max_trials
    for length in (trial_bucket(n_t + 1), n_t + 37):
        value, grad = _density_and_gradient(model, trials, priors, design, length, params)
        np.testing.assert_allclose(value, ref_value, rtol=1e-10)
        for k in params:
            np.testing.assert_allclose(grad[k], ref_grad[k], rtol=1e-9, atol=1e-12, err_msg=k)
    # control: the comparison sees a change of one observed (first-stage) choice
    at = (0, 1) + (0,) * (trials.choice.ndim - 2)
    flipped = trials._replace(choice=trials.choice.at[at].set(1 - trials.choice[at]))
    assert abs(_density_and_gradient(model, flipped, priors, design, None, params)[0] - ref_value) > 1e-3


def test_pointwise_log_likelihood_keeps_the_data_length():
    model = brl.models.rescorla_wagner()
    df = table()
    df = df[df["trial"] <= 37]  # 37 trials: scored on 40, returned on 37
    trials = prepare(df, model).trials(model)
    rng = np.random.default_rng(0)
    samples = {"alpha": rng.uniform(0.1, 0.9, (2, 3, 5)), "beta": rng.uniform(0.5, 5.0, (2, 3, 5))}
    ll = pointwise_log_likelihood(model, samples, trials)
    assert ll.shape == (2, 3, 5, 37)
    longer = pointwise_log_likelihood(model, samples, pad_trials(trials, 44))
    np.testing.assert_allclose(longer[..., :37], ll, rtol=1e-12)
    assert np.all(longer[..., 37:] == 0.0)


def test_nearby_trial_counts_reuse_the_compiled_sampler():
    """A data set with 97 trials after one with 100 compiles nothing: both sample on 100 trials."""
    if not jax.config.jax_compilation_cache_dir:
        pytest.skip("JAX's persistent compilation cache is off")
    model = brl.models.rescorla_wagner()
    df = brl.datasets.load("bandit2arm")
    df = df[df["participant"] <= 4]
    kw = dict(TINY, chain_method="vectorized")
    first = brl.fit(model, df, **kw)
    assert first.metadata["sampler"]["padded_trials"] == 100
    shorter = df[df["trial"] <= 97]
    events = []

    def listen(event, **_):
        events.append(event)

    jax.monitoring.register_event_listener(listen)
    try:
        fit = brl.fit(model, shorter, **kw)
    finally:
        jax.monitoring.unregister_event_listener(listen)
    requests = events.count("/jax/compilation_cache/compile_requests_use_cache")
    hits = events.count("/jax/compilation_cache/cache_hits")
    assert requests > 0 and hits == requests, (requests, hits)
    assert fit.metadata["sampler"]["padded_trials"] == 100 and fit.data.max_trials == 97
    ll = brl._arviz.group(fit.idata, "log_likelihood")["choice"]
    assert ll.sizes["trial"] == 97


def test_bucketing_changes_no_draw_and_resume_keeps_the_padded_shape(tmp_path):
    model = brl.models.rescorla_wagner()
    df = table()
    df = df[df["trial"] <= 37]
    bucketed = brl.fit(model, df, **TINY)
    exact = brl.fit(model, df, bucket_trials=False, **TINY)
    assert bucketed.metadata["sampler"]["padded_trials"] == 40
    assert exact.metadata["sampler"]["padded_trials"] == 37
    for v in ("alpha_mu", "beta_sigma", "alpha"):  # the same posterior density: the same chains
        np.testing.assert_allclose(bucketed.posterior[v].values, exact.posterior[v].values, rtol=1e-6)
    bucketed.save(tmp_path / "fit.nc")
    loaded = brl.load_fit(tmp_path / "fit.nc")
    assert loaded.metadata["sampler"]["padded_trials"] == 40
    resumed = loaded.resume(10, progress_bar=False, check=False)
    longer = brl.fit(model, df, **{**TINY, "num_samples": 20})
    np.testing.assert_allclose(resumed.posterior["alpha"].values, longer.posterior["alpha"].values, rtol=1e-8)
    assert not np.array_equal(resumed.posterior["alpha"].values[:, 10:], bucketed.posterior["alpha"].values)
    assert resumed.posterior["alpha"].shape == (2, 20, 5)


def test_block_free_data_leave_the_reset_out_with_the_same_log_density():
    model = brl.models.rescorla_wagner()
    blocked = table()
    free = blocked.drop(columns="block")
    priors = resolve_priors(model, None)
    for df, expected in ((blocked, True), (free, False)):
        numpyro_model, _ = model_of_data(model, prepare(df, model).trials(model), priors)
        assert (
            numpyro_model.keywords["resets"] is expected is brl.engine.starts_blocks(prepare(df, model).trials(model))
        )
    trials = prepare(free, model).trials(model)
    numpyro_model, args = model_of_data(model, trials, priors)
    _, start = find_initial_params(numpyro_model, args, jax.random.PRNGKey(0), 1)
    params = {k: v[0] + 0.2 for k, v in start.items()}

    def density(trials, resets):
        m, a = model_of_data(model, trials, priors)
        m = functools.partial(m.func, **{**m.keywords, "resets": resets})
        return jax.value_and_grad(lambda p: potential_energy(m, a, {}, p))(params)

    (with_value, with_grad), (without_value, without_grad) = density(trials, True), density(trials, False)
    np.testing.assert_allclose(without_value, with_value, rtol=1e-12)
    for k in params:
        np.testing.assert_allclose(without_grad[k], with_grad[k], rtol=1e-12, atol=1e-14, err_msg=k)
    # control: where blocks do start, leaving the reset out changes the density
    trials = prepare(blocked, model).trials(model)
    assert abs(density(trials, True)[0] - density(trials, False)[0]) > 1e-3
