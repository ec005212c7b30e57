"""Generic checks run on every model of the library (STYLE: oracles and registries).

Each model has a case in ``tests/cases_<family>.py``: how to build it, a ragged table in its
own column format, a task to simulate it and an independent NumPy oracle.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from cases import CASES, oracle_log_likelihood, ragged_table

import bayesrl as brl
from bayesrl import engine
from bayesrl.data import prepare
from bayesrl.simulate import simulate_batch

MODEL_NAMES = sorted(brl.models._REGISTRY)
CASE_NAMES = sorted(CASES)  # library models plus composed variants (e.g. "prl_rp+lapse")


def test_every_library_model_has_a_test_case():
    missing = sorted(set(MODEL_NAMES) - set(CASE_NAMES))
    assert not missing, f"add a Case (NumPy oracle, table, task) in tests/cases_<family>.py for {missing}"


def random_params(model, rng, n, scale=1.2):
    return {name: np.asarray(spec.constrain(rng.normal(0.0, scale, size=n))) for name, spec in model.params.items()}


def case_data(name, rng):
    case = CASES[name]
    model = case.make_model()
    data = prepare(case.make_table(rng), model)
    return case, model, data


@pytest.mark.parametrize("name", CASE_NAMES)
def test_likelihood_matches_numpy_oracle(name, rng):
    case, model, data = case_data(name, rng)
    assert data.arrays["block_start"].any() and (~data.arrays["valid"]).any() and (data.row_index < 0).any()
    params = random_params(model, rng, data.n_participants)
    ll = engine.log_likelihood(
        model, model.make_params({k: jnp.asarray(v) for k, v in params.items()}), data.trials(model)
    )
    expected = oracle_log_likelihood(case, model, params, data.arrays)
    np.testing.assert_allclose(np.asarray(ll), expected, rtol=1e-6, atol=1e-6)
    assert np.all(np.asarray(ll)[~data.arrays["valid"]] == 0.0)  # padded and masked cells contribute nothing
    # log-probabilities; a choice made certain by a large logit gap (IGT's 3**cons - 1 reaches 242) scores exactly 0
    assert np.all(np.asarray(ll)[data.arrays["valid"]] <= 0.0)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_jit_equals_eager_and_vmap_equals_loop(name, rng):
    _, model, data = case_data(name, rng)
    trials = data.trials(model)
    params = model.make_params({k: jnp.asarray(v) for k, v in random_params(model, rng, data.n_participants).items()})
    with jax.disable_jit():
        eager = np.asarray(engine.log_likelihood(model, params, trials))
    jitted = np.asarray(jax.jit(lambda p: engine.log_likelihood(model, p, trials))(params))
    np.testing.assert_allclose(jitted, eager, rtol=1e-10, atol=1e-12)
    for i in range(data.n_participants):
        one_p = jax.tree_util.tree_map(lambda a, i=i: a[i], params)
        one_t = jax.tree_util.tree_map(lambda a, i=i: a[i], trials)
        lg = engine.participant_logits(model, one_p, one_t)
        loop = np.asarray(engine.choice_log_prob(lg, *engine.observed_choices(model, one_t)))
        loop = loop.sum(-1) if model.stages else loop  # a staged model's trial: the sum over its stages
        np.testing.assert_allclose(loop, jitted[i], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_gradients_finite_at_extreme_parameters(name, rng):
    from numpyro.infer.util import log_density

    from bayesrl.hierarchy import hierarchical_model, resolve_priors

    _, model, data = case_data(name, rng)
    trials = data.trials(model)
    n_p = data.n_participants
    priors = resolve_priors(model, None)
    # unconstrained values far in the tails: rates near 0 and 1, temperatures at their bounds
    for extreme in (-6.0, 6.0, 0.0):
        values = {}
        for p in model.param_names:
            values[f"{p}_mu"] = jnp.asarray(extreme)
            values[f"{p}_sigma"] = jnp.asarray(0.5)
            values[f"{p}_z"] = jnp.linspace(-3, 3, n_p)

        def logp(v):
            return log_density(hierarchical_model, (model, trials, priors), {}, v)[0]

        value, grad = jax.value_and_grad(logp)(values)
        assert np.isfinite(float(value)), (name, extreme)
        for k, g in grad.items():
            assert np.all(np.isfinite(np.asarray(g))), (name, extreme, k)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_data_without_gaps_update_on_the_padding_with_the_same_density_and_gradient(name, rng):
    """``gaps=False`` (no valid trial after an invalid one) runs ``update`` on the padding, changing nothing scored."""
    from numpyro.infer.util import log_density

    from bayesrl.data import pad_trials
    from bayesrl.hierarchy import hierarchical_model, resolve_priors
    from bayesrl.inference import model_of_data

    case = CASES[name]
    model = case.make_model()
    table = case.make_table(rng)
    gapped = prepare(table, model).trials(model)
    complete = prepare(table.dropna(), model).trials(model)  # missed responses dropped: ragged, padded at the end
    assert engine.has_gaps(gapped) and not engine.has_gaps(complete)
    assert (~np.asarray(complete.valid)).any()  # padding there is
    priors = resolve_priors(model, None)
    assert model_of_data(model, complete, priors)[0].keywords["gaps"] is False
    assert model_of_data(model, gapped, priors)[0].keywords["gaps"] is True
    n_p = complete.valid.shape[0]
    extremes = jnp.asarray([-6.0, 0.3, 6.0])  # unconstrained group locations: rates near 0 and 1, bounds
    values = {}
    for p in model.param_names:
        values[f"{p}_mu"] = extremes
        values[f"{p}_sigma"] = jnp.full(3, 0.5)
        values[f"{p}_z"] = jnp.broadcast_to(jnp.linspace(-2.5, 2.5, n_p), (3, n_p))

    @jax.jit
    def with_and_without(trials_with, trials_without, values):
        """Density and gradient at each of the points, with the select (``gaps=True``) and without."""

        def one(trials, gaps, v):
            return jax.value_and_grad(
                lambda v: log_density(hierarchical_model, (model, trials, priors), {"gaps": gaps}, v)[0]
            )(v)

        return jax.vmap(lambda v: (one(trials_with, True, v), one(trials_without, False, v)))(values)

    # one case per family also padded further (as bucketing does) and the control; each compiled
    # program costs one to two seconds
    family = name in ("bandit2arm_delta", "bandit4arm_4par", "gng_m4", "igt_orl", "prl_ewa", "pst_gainloss_Q",
                      "rescorla_wagner+perseveration(decay)", "banditNarm_kalman_filter", "ts_par7")  # fmt: skip
    longer = pad_trials(complete, complete.valid.shape[1] + 11)
    for trials in (complete, longer) if family else (complete,):
        (ref_value, ref_grad), (value, grad) = with_and_without(complete, trials, values)
        assert np.all(np.isfinite(np.asarray(ref_value))), name
        np.testing.assert_allclose(value, ref_value, rtol=1e-10, err_msg=name)
        for k, g in grad.items():
            assert np.all(np.isfinite(np.asarray(g))), (name, k)
            np.testing.assert_allclose(g, ref_grad[k], rtol=1e-9, atol=1e-12, err_msg=f"{name} {k}")
    if family:  # control: where a missed response comes before more trials, leaving the select out changes the density
        (with_select, _), (without, _) = with_and_without(gapped, gapped, values)
        assert abs(float(with_select[1]) - float(without[1])) > 1e-6, name  # at -6, rates near 0 learn nothing


@pytest.mark.parametrize("name", CASE_NAMES)
def test_masked_trial_changes_nothing(name, rng):
    """Masking a trial removes its term and leaves later trials as if it never happened."""
    case, model, _ = case_data(name, rng)
    table = case.make_table(rng)
    col = prepare(table, model).column_map  # the table's own names (e.g. keyPressed, trialNum)
    pid, choice, trial = col["participant"], col[model.choice_columns[0]], col["trial"]
    first = table[pid].iloc[0]
    one = table[(table[pid] == first) & table[choice].notna()].sort_values(trial).reset_index(drop=True)
    one[col.get("block", "block")] = 1
    k = 10
    masked = one.copy()
    masked.loc[k, choice] = np.nan
    removed = one.drop(index=k)
    params = model.make_params({p: jnp.asarray(v) for p, v in random_params(model, rng, 1).items()})
    base = prepare(one, model).choice_base
    ll = {}
    for key, t in (("masked", masked), ("removed", removed)):
        data = prepare(t, model, choice_base=base)
        ll[key] = np.asarray(engine.log_likelihood(model, params, data.trials(model)))[0]
    assert ll["masked"][k] == 0.0
    np.testing.assert_allclose(np.delete(ll["masked"], k), ll["removed"], rtol=1e-12)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_simulated_logits_equal_scored_logits(name, rng):
    case = CASES[name]
    model = case.make_model()
    params = model.make_params({k: jnp.asarray(v) for k, v in random_params(model, rng, 5, scale=0.7).items()})
    trials, sim_logits = simulate_batch(model, params, case.make_task(), jax.random.PRNGKey(3))
    scored = engine.logits(model, params, trials)
    np.testing.assert_allclose(np.asarray(scored), np.asarray(sim_logits), rtol=1e-12, atol=1e-12)
    assert len(np.unique(np.asarray(trials.choice))) == model.n_options  # simulated choices are not degenerate


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_library_model_documents_itself(name):
    factory = brl.models.get(name)
    model = factory()
    doc = factory.__doc__ or ""
    assert "References" in doc or "Erev" in doc, f"{name}: cite the paper in the docstring"
    for p in model.param_names:
        assert p in doc, f"{name}: document parameter {p}"
    assert model.options, f"{name}: set options= so saved fits can rebuild the model"
    rebuilt = factory(**model.options)
    assert rebuilt.param_names == model.param_names


def test_block_start_resets_values():
    model = brl.models.rescorla_wagner(n_options=2)
    df = pd.DataFrame(
        {
            "participant": 1,
            "trial": [1, 2, 3, 4],
            "block": [1, 1, 2, 2],
            "choice": [0, 0, 0, 1],
            "outcome": [1.0, 1.0, 1.0, 1.0],
        }
    )
    data = prepare(df, model)
    params = model.make_params({"alpha": jnp.asarray([0.5]), "beta": jnp.asarray([2.0])})
    lg = np.asarray(engine.logits(model, params, data.trials(model)))[0]
    np.testing.assert_allclose(lg[2], [0.0, 0.0])  # new block: values back to 0
    np.testing.assert_allclose(lg[1], [2.0 * 0.5, 0.0])
    ignore = prepare(df, model, columns={"block": None})
    lg2 = np.asarray(engine.logits(model, params, ignore.trials(model)))[0]
    np.testing.assert_allclose(lg2[2], [2.0 * 0.75, 0.0])


def test_custom_model_from_the_seed_guide(rng):
    """The asymmetric-learning-rate model written by a user in a few lines equals the library's."""
    from typing import NamedTuple

    class Q(NamedTuple):
        q: jnp.ndarray

    def update(state, p, trial):
        pe = trial.outcome - state.q[trial.choice]
        lr = jnp.where(pe >= 0, p.alpha_pos, p.alpha_neg)
        return Q(state.q.at[trial.choice].add(lr * pe))

    custom = brl.Model(
        name="my_rw",
        params={"alpha_pos": brl.unit(), "alpha_neg": brl.unit(), "beta": brl.positive(upper=5)},
        init_state=lambda n, p: Q(jnp.zeros(n)),
        policy=lambda s, p, t: p.beta * s.q,
        update=update,
    )
    library = brl.models.rescorla_wagner_asymmetric()
    table = ragged_table(rng, {"outcome": lambda r: float(r.choice([-1.0, 0.0, 1.0]))}, n_options=2)
    data = prepare(table, custom)
    params = random_params(library, rng, data.n_participants)
    a = engine.log_likelihood(custom, custom.make_params(params), data.trials(custom))
    b = engine.log_likelihood(library, library.make_params(params), data.trials(library))
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12)


def test_model_spec_errors():
    ok = dict(init_state=lambda n, p: None, policy=lambda s, p, t: None, update=lambda s, p, t: s)
    with pytest.raises(TypeError, match="brl.unit"):
        brl.Model(name="m", params={"alpha": 0.5}, **ok)
    with pytest.raises(ValueError, match="no parameters"):
        brl.Model(name="m", params={}, **ok)
    with pytest.raises(ValueError, match="n_options"):
        brl.Model(name="m", params={"a": brl.unit()}, n_options=1, **ok)


def test_unknown_model_name_suggests_nearest():
    with pytest.raises(KeyError, match="rescorla_wagner"):
        brl.models.get("rescorla_wagnr")
    table = brl.models.list()
    assert {
        "rescorla_wagner",
        "rescorla_wagner_asymmetric",
        "rescorla_wagner_perseveration",
        "bandit2arm_delta",
    } <= set(table.index)
    assert "alpha [0, 1]" in table.loc["rescorla_wagner", "parameters"]


def test_transforms_round_trip_and_bounds():
    for spec in (brl.unit(), brl.positive(upper=5), brl.bounded(-2, 3), brl.positive(), brl.real()):
        x = np.linspace(-4, 4, 17)
        y = np.asarray(spec.constrain(jnp.asarray(x)))
        assert np.all(spec.contains(y))
        np.testing.assert_allclose(spec.unconstrain(y), x, rtol=1e-6, atol=1e-6)
    # Phi_approx is close to the normal CDF (Bowling et al. 2009: max error ~1e-4)
    from scipy.stats import norm

    x = np.linspace(-5, 5, 101)
    np.testing.assert_allclose(np.asarray(brl.transforms.phi_approx(x)), norm.cdf(x), atol=2e-4)


def test_bandit2arm_delta_is_rescorla_wagner_with_hbayesdm_names(rng):
    hb, rw = brl.models.bandit2arm_delta(), brl.models.rescorla_wagner()
    assert hb.param_names == ("A", "tau") and hb.name == "bandit2arm_delta"
    table = ragged_table(rng, {"outcome": lambda r: float(r.choice([-1.0, 1.0]))}, n_options=2)
    data = prepare(table, hb)
    a, b = rng.uniform(0, 1, 4), rng.uniform(0, 5, 4)
    x = engine.log_likelihood(hb, hb.make_params({"A": a, "tau": b}), data.trials(hb))
    y = engine.log_likelihood(rw, rw.make_params({"alpha": a, "beta": b}), data.trials(rw))
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-12)
    with pytest.raises(ValueError, match="not parameters"):
        rw.renamed({"gamma": "g"})


def test_half_cauchy_group_scale_prior_is_available():
    from bayesrl.hierarchy import resolve_priors

    model = brl.models.rescorla_wagner()
    priors = resolve_priors(model, {"beta": {"sigma_family": "halfcauchy", "sigma_scale": 1.0}})
    assert priors["beta"].sigma_family == "halfcauchy" and priors["alpha"].sigma_family == "halfnormal"
    with pytest.raises(ValueError, match="sigma_family"):
        resolve_priors(model, {"beta": {"sigma_family": "cauchy"}})


def test_keyword_parameter_names_reach_the_functions_with_an_underscore():
    """hBayesDM's ``lambda``: ``params.lambda_`` inside the model, ``lambda`` everywhere else."""
    from typing import NamedTuple

    class S(NamedTuple):
        q: jnp.ndarray

    model = brl.Model(
        name="kw",
        params={"lambda": brl.unit(), "beta": brl.positive(upper=5)},
        init_state=lambda n, p: S(jnp.zeros(n)),
        policy=lambda s, p, t: p.beta * s.q,
        update=lambda s, p, t: S(s.q.at[t.choice].add(p.lambda_ * (t.outcome - s.q[t.choice]))),
    )
    assert model.param_names == ("lambda", "beta") and model.params_type._fields == ("lambda_", "beta")
    renamed = model.renamed({"beta": "tau"})
    data = prepare(ragged_table(np.random.default_rng(0), {"outcome": lambda r: 1.0}, n_options=2), model)
    a = engine.log_likelihood(
        model, model.make_params({"lambda": np.full(4, 0.3), "beta": np.full(4, 2.0)}), data.trials(model)
    )
    b = engine.log_likelihood(
        renamed, renamed.make_params({"lambda": np.full(4, 0.3), "tau": np.full(4, 2.0)}), data.trials(model)
    )
    np.testing.assert_allclose(np.asarray(a), np.asarray(b))


LINEAR_CASES = [n for n in CASE_NAMES if CASES[n].make_model().linear_update is not None]


def test_plain_rescorla_wagner_declares_a_linear_update():
    assert {"rescorla_wagner", "bandit2arm_delta"} <= set(LINEAR_CASES)


@pytest.mark.parametrize("name", LINEAR_CASES)
def test_linear_update_agrees_with_update(name, rng):
    """``update(s) == decay * s + drive`` on every valid trial of the case's data, from random states."""
    _, model, data = case_data(name, rng)
    trials = data.trials(model)
    params = random_params(model, rng, data.n_participants)
    for i in range(data.n_participants):
        p = model.make_params({k: jnp.asarray(v[i]) for k, v in params.items()})
        for t in np.flatnonzero(data.arrays["valid"][i])[:15]:
            trial = jax.tree_util.tree_map(lambda a, i=i, t=t: a[i, t], trials)
            state = jax.tree_util.tree_map(
                lambda s: s + jnp.asarray(rng.normal(size=s.shape)), model.init_state(model.n_options, p)
            )
            decay, drive = model.linear_update(p, trial)
            affine = jax.tree_util.tree_map(lambda d, b, s: d * s + b, decay, drive, state)
            for a, b in zip(
                jax.tree_util.tree_leaves(affine), jax.tree_util.tree_leaves(model.update(state, p, trial)), strict=True
            ):
                np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", LINEAR_CASES)
def test_associative_trial_loop_equals_the_scan(name, rng):
    """``trial_loop="associative"``: the same log-likelihood (NumPy oracle), gradients and latents."""
    import dataclasses

    case, model, data = case_data(name, rng)
    fast = dataclasses.replace(model, trial_loop="associative")
    trials = data.trials(model)
    raw = random_params(model, rng, data.n_participants)
    params = model.make_params({k: jnp.asarray(v) for k, v in raw.items()})
    ll = np.asarray(engine.log_likelihood(fast, params, trials))
    np.testing.assert_allclose(ll, oracle_log_likelihood(case, model, raw, data.arrays), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ll, np.asarray(engine.log_likelihood(model, params, trials)), rtol=1e-10, atol=1e-12)

    def total(m, p):
        return engine.log_likelihood(m, p, trials).sum()

    for a, b in zip(jax.tree_util.tree_leaves(jax.grad(total, argnums=1)(fast, params)),
                    jax.tree_util.tree_leaves(jax.grad(total, argnums=1)(model, params)), strict=True):  # fmt: skip
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-10)
    # a parameter with a value per trial (within-participant conditions)
    name0 = model.param_names[0]
    per_trial = params._replace(
        **{name0: jnp.asarray(model.params[name0].constrain(rng.normal(size=trials.valid.shape)))}
    )
    np.testing.assert_allclose(
        np.asarray(engine.log_likelihood(fast, per_trial, trials)),
        np.asarray(engine.log_likelihood(model, per_trial, trials)),
        rtol=1e-10, atol=1e-12,
    )  # fmt: skip
    for a, b in zip(jax.tree_util.tree_leaves(engine.latents(fast, params, trials)),
                    jax.tree_util.tree_leaves(engine.latents(model, params, trials)), strict=True):  # fmt: skip
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12)


def test_trial_loop_is_checked():
    import dataclasses

    with pytest.raises(ValueError, match="trial_loop .* must be one of"):
        dataclasses.replace(brl.models.rescorla_wagner(), trial_loop="parallel")
    with pytest.raises(ValueError, match="needs a model with linear_update"):
        dataclasses.replace(brl.models.prl_rp(), trial_loop="associative")


@pytest.mark.parametrize("n_options", [4, engine.UNROLL_OPTIONS + 2])  # option by option, and log_softmax
@pytest.mark.parametrize("log_softmax", [True, False])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_observe_site_distribution_is_numpyros_categorical(dtype, log_softmax, n_options, rng, monkeypatch):
    """ChoiceCategorical: NumPyro's Categorical's log-probability, gradient and draws, either way of normalising."""
    import numpyro.distributions as dist

    from bayesrl import hierarchy
    from bayesrl.hierarchy import ChoiceCategorical

    monkeypatch.setattr(hierarchy, "LOG_SOFTMAX", log_softmax)

    logits = jnp.asarray(rng.normal(0.0, 3.0, (3, 5, n_options)), dtype)
    logits = logits.at[0, :, 2:].set(engine.NOT_OFFERED).at[1, 1, 0].set(40.0)  # masked options, a large logit
    value = jnp.asarray(rng.integers(0, 4, (3, 5)))
    value = value.at[0].set(value[0] % 2)  # only offered options are observed
    ours, numpyros = ChoiceCategorical(logits), dist.Categorical(logits=logits)
    assert ours.log_prob(value).dtype == dtype
    tol = 1e-5 if dtype == jnp.float32 else 1e-12
    np.testing.assert_allclose(ours.log_prob(value), numpyros.log_prob(value), rtol=tol, atol=tol)
    np.testing.assert_allclose(ours.log_prob(value[1, 2]), numpyros.log_prob(value[1, 2]), rtol=tol, atol=tol)
    np.testing.assert_allclose(ours.log_prob(value[None]), numpyros.log_prob(value[None]), rtol=tol, atol=tol)

    def total(d):
        return lambda lg: d(lg).mask(value < 3).log_prob(value).sum()  # masked as the site is

    np.testing.assert_allclose(
        jax.grad(total(ChoiceCategorical))(logits),
        jax.grad(total(lambda lg: dist.Categorical(logits=lg)))(logits),
        rtol=tol,
        atol=tol,
    )
    key = jax.random.PRNGKey(3)
    np.testing.assert_array_equal(ours.sample(key, (2,)), numpyros.sample(key, (2,)))
    assert (ours.sample(key, (200,))[:, 0] < 2).all()  # never an option not offered


@pytest.mark.parametrize("n_options", [1, 2, 3, engine.UNROLL_OPTIONS, engine.UNROLL_OPTIONS + 1, 9])
def test_chosen_log_softmax_is_log_softmax_with_exact_ties(n_options, rng):
    """Option by option (up to UNROLL_OPTIONS) or by a gather: log_softmax's values, exact on ties, with groups."""
    logits = jnp.asarray(rng.normal(0.0, 2.0, (4, 6, n_options)))
    choice = jnp.asarray(rng.integers(0, n_options, (4, 6)))
    expected = np.take_along_axis(np.asarray(jax.nn.log_softmax(logits, axis=-1)), np.asarray(choice)[..., None], -1)
    tol = 1e-6 if logits.dtype == jnp.float32 else 1e-13
    np.testing.assert_allclose(engine.chosen_log_softmax(logits, choice), expected[..., 0], rtol=tol, atol=tol)
    one = np.asarray(jax.nn.log_softmax(logits, axis=-1))[..., int(choice[0, 0])]  # a scalar choice broadcasts
    np.testing.assert_allclose(engine.chosen_log_softmax(logits, choice[0, 0]), one, rtol=tol, atol=tol)
    # tied logits: exactly log_softmax's -log(n) on every row, so a pointwise log-likelihood that is
    # constant over draws stays exactly constant (LOO's Pareto k needs it)
    tied = jnp.full((3, n_options), 0.7, logits.dtype).at[1].set(-2.5)
    got = np.asarray(engine.chosen_log_softmax(tied, jnp.asarray([0, n_options - 1, 0])))
    np.testing.assert_array_equal(got, np.asarray(jax.nn.log_softmax(tied, axis=-1))[:, 0])
    assert got[0] == got[1] == got[2]
    # groups: only the options of the offered group count, as stage_logits masks them
    groups = tuple(k % 2 for k in range(n_options))
    group = choice % 2
    offered = jnp.asarray(groups)[None, None, :] == group[..., None]
    masked = jnp.where(offered, logits, engine.NOT_OFFERED)
    expected = np.take_along_axis(np.asarray(jax.nn.log_softmax(masked, axis=-1)), np.asarray(choice)[..., None], -1)
    got = engine.chosen_log_softmax(logits, choice, groups, group)
    np.testing.assert_allclose(got, expected[..., 0], rtol=tol, atol=tol)
    grad = jax.grad(lambda lg: engine.chosen_log_softmax(lg, choice, groups, group).sum())(logits)
    grad_expected = jax.grad(
        lambda lg: jnp.take_along_axis(
            jax.nn.log_softmax(jnp.where(offered, lg, engine.NOT_OFFERED), -1),
            choice[..., None],
            -1,
        ).sum()
    )(logits)
    np.testing.assert_allclose(grad, grad_expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["ts_par4", "ts_par7"])
def test_staged_observe_site_is_the_categorical_of_the_scored_logits(name, rng):
    """StagedChoice scores policy's logits stage by stage: the Categorical of engine.logits' masked array."""
    import numpyro.distributions as dist

    from bayesrl.hierarchy import StagedChoice

    model = brl.models.get(name)()
    values = {k: jnp.asarray(rng.uniform(0.2, 0.8, 3)) for k in model.param_names}
    n = 3 * 30
    df = pd.DataFrame(
        {
            "participant": np.repeat(["a", "b", "c"], 30),
            "level1_choice": rng.integers(1, 3, n).astype(float),
            "level2_choice": rng.integers(1, 5, n).astype(float),
            "outcome": rng.integers(0, 2, n),
        }
    )
    df.loc[7, "level2_choice"] = np.nan  # a missed choice masks its trial
    df = df.iloc[:-4]  # ragged: the last participant has fewer trials
    trials = prepare(df, model).trials(model)
    params = model.make_params(values)
    choice, valid = engine.observed_choices(model, trials)
    ours = StagedChoice(model, engine.policy_logits(model, params, trials), choice)
    theirs = dist.Categorical(logits=engine.logits(model, params, trials))
    assert ours.batch_shape == theirs.batch_shape == choice.shape
    tol = 1e-5 if jnp.result_type(float) == jnp.float32 else 1e-12
    np.testing.assert_allclose(ours.log_prob(choice), theirs.log_prob(choice), rtol=tol, atol=tol)
    np.testing.assert_allclose(ours.log_prob(choice[None]), theirs.log_prob(choice[None]), rtol=tol, atol=tol)
    np.testing.assert_array_equal(ours.scored_logits, engine.logits(model, params, trials))
    key = jax.random.PRNGKey(2)
    np.testing.assert_array_equal(ours.sample(key, (2,)), theirs.sample(key, (2,)))
    # the pointwise log-likelihood is the same computation, summed over stages
    np.testing.assert_allclose(
        engine.log_likelihood(model, params, trials),
        jnp.where(valid, theirs.log_prob(choice), 0.0).sum(-1),
        rtol=tol,
        atol=tol,
    )

    def potential(scale, site):
        p = model.make_params({k: v * scale for k, v in values.items()})
        lg = engine.policy_logits(model, p, trials) if site else engine.logits(model, p, trials)
        d = StagedChoice(model, lg, choice) if site else dist.Categorical(logits=lg)
        return d.mask(valid).log_prob(choice).sum()

    grad = jax.jit(jax.grad(potential), static_argnums=1)
    np.testing.assert_allclose(grad(1.0, True), grad(1.0, False), rtol=tol * 10, atol=tol * 10)
