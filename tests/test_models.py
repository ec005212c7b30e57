"""Generic checks run on every model of the library (STYLE: oracles and registries)."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from oracles import ORACLES
from oracles import log_likelihood as oracle_log_likelihood

import bayesrl as brl
from bayesrl import engine
from bayesrl.data import prepare
from bayesrl.simulate import simulate_batch

MODEL_NAMES = sorted(brl.models._REGISTRY)


def test_every_library_model_has_an_oracle():
    assert set(MODEL_NAMES) <= set(ORACLES), "add a NumPy oracle in tests/oracles.py for each new model"


def ragged_table(rng, n_options=3, n_participants=4):
    """Ragged participants, missing choices, two blocks, shuffled rows, string ids."""
    rows = []
    for i in range(n_participants):
        n_t = 30 + 7 * i
        for t in range(n_t):
            choice = rng.integers(1, n_options + 1)
            outcome = float(rng.choice([-1.0, 0.0, 1.0, 0.5]))
            if rng.random() < 0.1:
                choice, outcome = np.nan, np.nan
            rows.append(
                {
                    "subjID": f"s{i:02d}",
                    "trial": t + 1,
                    "block": 1 + (t >= n_t // 2),
                    "choice": choice,
                    "outcome": outcome,
                }
            )
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=1)
    # make sure every coding value appears so 1-based coding is detected
    assert set(df["choice"].dropna().astype(int)) == set(range(1, n_options + 1))
    return df


def random_params(model, rng, n):
    out = {}
    for name, spec in model.params.items():
        x = rng.normal(0.0, 1.2, size=n)
        out[name] = np.asarray(spec.constrain(x))
    return out


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_likelihood_matches_numpy_oracle(name, rng):
    model = brl.models.get(name)(n_options=3)
    data = prepare(ragged_table(rng), model)
    assert data.arrays["block_start"].any() and (~data.arrays["valid"]).any()
    params = random_params(model, rng, data.n_participants)
    ll = engine.log_likelihood(
        model, model.make_params({k: jnp.asarray(v) for k, v in params.items()}), data.trials(model)
    )
    expected = oracle_log_likelihood(model, params, data.arrays)
    np.testing.assert_allclose(np.asarray(ll), expected, rtol=1e-6, atol=1e-6)
    # padded and masked cells contribute nothing
    assert np.all(np.asarray(ll)[~data.arrays["valid"]] == 0.0)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_jit_equals_eager_and_vmap_equals_loop(name, rng):
    model = brl.models.get(name)(n_options=3)
    data = prepare(ragged_table(rng), model)
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
        loop = np.asarray(engine.choice_log_prob(lg, one_t.choice, one_t.valid))
        np.testing.assert_allclose(loop, jitted[i], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_gradients_finite_at_extreme_parameters(name, rng):
    from numpyro.infer.util import log_density

    from bayesrl.hierarchy import hierarchical_model, resolve_priors

    model = brl.models.get(name)(n_options=3)
    data = prepare(ragged_table(rng), model)
    trials = data.trials(model)
    n_p = data.n_participants
    priors = resolve_priors(model, None)
    # unconstrained values far in the tails: alpha -> ~0 and ~1, beta at its bounds
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


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_masked_trial_changes_nothing(name, rng):
    """Masking a trial removes its term and leaves later trials as if it never happened."""
    model = brl.models.get(name)(n_options=2)
    n_t = 40
    choice = rng.integers(1, 3, size=n_t).astype(float)
    outcome = rng.choice([0.0, 1.0], size=n_t)
    df = pd.DataFrame({"participant": 1, "trial": np.arange(1, n_t + 1), "choice": choice, "outcome": outcome})
    masked = df.copy()
    masked.loc[10, ["choice", "outcome"]] = np.nan
    removed = df.drop(index=10)
    params = model.make_params({k: jnp.asarray(v) for k, v in random_params(model, rng, 1).items()})
    ll = {}
    for key, table in (("masked", masked), ("removed", removed)):
        data = prepare(table, model, choice_base=1)
        ll[key] = np.asarray(engine.log_likelihood(model, params, data.trials(model)))[0]
    assert ll["masked"][10] == 0.0
    np.testing.assert_allclose(np.delete(ll["masked"], 10), ll["removed"], rtol=1e-12)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_simulated_logits_equal_scored_logits(name, rng):
    model = brl.models.get(name)(n_options=3)
    task = brl.tasks.bandit(
        brl.tasks.reversal_schedule([0.8, 0.5, 0.2], n_trials=60, every=20), reward=1.0, no_reward=-1.0
    )
    params = model.make_params({k: jnp.asarray(v) for k, v in random_params(model, rng, 5).items()})
    trials, sim_logits = simulate_batch(model, params, task, jax.random.PRNGKey(3))
    scored = engine.logits(model, params, trials)
    np.testing.assert_allclose(np.asarray(scored), np.asarray(sim_logits), rtol=1e-12, atol=1e-12)
    # and the simulated choices are not degenerate
    assert len(np.unique(np.asarray(trials.choice))) == 3


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
    data = prepare(ragged_table(rng, n_options=2), custom)
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
    assert {"rescorla_wagner", "rescorla_wagner_asymmetric", "rescorla_wagner_perseveration"} <= set(table.index)
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
