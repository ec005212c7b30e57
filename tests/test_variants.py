"""Model variants: composition rules, rebuilding by name, save/load of a fitted variant."""

import json
import warnings

import jax.numpy as jnp
import numpy as np
import pytest
from cases import ragged_table

import bayesrl as brl
from bayesrl import engine
from bayesrl.data import prepare

M = brl.models


def _params(model, rng, n):
    return model.make_params(
        {k: jnp.asarray(spec.constrain(rng.normal(0.0, 1.0, size=n))) for k, spec in model.params.items()}
    )


def _data(rng, model, n_options=3):
    table = ragged_table(rng, {"outcome": lambda r: float(r.choice([-1.0, 0.0, 1.0]))}, n_options=n_options)
    return prepare(table, model)


def test_names_parameters_and_options_compose():
    m = M.with_lapse(M.with_forgetting(M.rescorla_wagner_asymmetric(n_options=4)))
    assert m.name == "rescorla_wagner_asymmetric+forgetting+lapse"
    assert m.param_names == ("alpha_pos", "alpha_neg", "beta", "phi", "xi")
    assert m.n_options == 4 and m.columns == ("outcome",)
    assert m.options == {
        "base": "rescorla_wagner_asymmetric+forgetting",
        "base_options": {
            "base": "rescorla_wagner_asymmetric",
            "base_options": {"n_options": 4, "beta_max": 5.0, "initial_value": 0.0},
            "field": "q",
        },
    }
    p = M.with_perseveration(M.rescorla_wagner(), decay=True)
    assert p.name == "rescorla_wagner+perseveration(decay)" and p.param_names[-2:] == ("kappa", "tau_c")
    assert M.with_perseveration(M.rescorla_wagner()).param_names == ("alpha", "beta", "kappa")
    assert M.with_free_initial_value(M.pst_Q()).param_names == ("alpha", "beta", "q0")
    # the base's own properties survive composition (PST's fixed choice coding)
    assert M.with_lapse(M.pst_Q()).choice_base == 0


@pytest.mark.parametrize(
    "build",
    [
        lambda: M.with_lapse(M.rescorla_wagner(n_options=3)),
        lambda: M.with_perseveration(M.with_lapse(M.rescorla_wagner(n_options=3)), decay=True),
        lambda: M.with_forgetting(M.with_free_initial_value(M.rescorla_wagner_pearce_hall(n_options=3))),
        lambda: M.with_lapse(M.pst_gainloss_Q()),
        lambda: M.with_lapse(M.bandit2arm_delta()),
    ],
)
def test_composed_models_are_rebuilt_from_name_and_json_options(build, rng):
    model = build()
    assert M._registry.can_rebuild(model.name)  # what fit() checks before storing a model as rebuildable
    options = json.loads(json.dumps(model.options))  # as stored in a saved fit
    rebuilt = M.get(model.name)(**options)
    assert rebuilt.name == model.name and rebuilt.param_names == model.param_names
    assert rebuilt.n_options == model.n_options and rebuilt.columns == model.columns
    assert model.name not in M.list().index  # composed names are not listed as library models
    if model.columns == ("outcome",):
        data = _data(rng, model, n_options=model.n_options)
        params = _params(model, rng, data.n_participants)
        a = engine.log_likelihood(model, params, data.trials(model))
        b = engine.log_likelihood(rebuilt, params, data.trials(rebuilt))
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_unknown_composed_names_and_custom_bases_are_not_rebuildable():
    assert not M._registry.can_rebuild("rescorla_wagner+nonsense")
    assert not M._registry.can_rebuild("no_such_model+lapse")
    with pytest.raises(KeyError, match="unknown model"):
        M.get("rescorla_wagner+nonsense")
    custom = brl.Model(
        name="mine",
        params={"alpha": brl.unit(), "beta": brl.positive(upper=5)},
        init_state=lambda n, p: M.QState(jnp.zeros(n)),
        policy=lambda s, p, t: p.beta * s.q,
        update=lambda s, p, t: M.QState(s.q.at[t.choice].add(p.alpha * (t.outcome - s.q[t.choice]))),
    )
    lapsed = M.with_lapse(custom)
    assert lapsed.name == "mine+lapse" and lapsed.options == {}  # a custom base: load_fit needs model=
    assert not M._registry.can_rebuild(lapsed.name)


def test_perseveration_without_decay_equals_the_library_sticky_model(rng):
    composed = M.with_perseveration(M.rescorla_wagner(n_options=3))
    library = M.rescorla_wagner_perseveration(n_options=3)
    data = _data(rng, library)
    params = _params(library, rng, data.n_participants)
    a = engine.log_likelihood(composed, params, data.trials(composed))
    b = engine.log_likelihood(library, params, data.trials(library))
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)


def test_lapse_limits_and_stability(rng):
    base = M.rescorla_wagner(n_options=3)
    model = M.with_lapse(base)
    data = _data(rng, model)
    trials = data.trials(model)
    n = data.n_participants
    alpha, beta = jnp.full(n, 0.4), jnp.full(n, 5.0)
    plain = engine.log_likelihood(base, base.make_params({"alpha": alpha, "beta": beta}), trials)
    at = {
        xi: engine.log_likelihood(
            model, model.make_params({"alpha": alpha, "beta": beta, "xi": jnp.full(n, xi)}), trials
        )
        for xi in (0.0, 1.0)
    }
    np.testing.assert_allclose(np.asarray(at[0.0]), np.asarray(plain), rtol=1e-12, atol=1e-12)
    valid = data.arrays["valid"]
    np.testing.assert_allclose(np.asarray(at[1.0])[valid], -np.log(3.0), rtol=1e-12)
    # huge logits: log-probabilities stay finite and never fall below log(xi / K)
    huge = model.make_params({"alpha": alpha, "beta": jnp.full(n, 1e6), "xi": jnp.full(n, 0.1)})
    ll = np.asarray(engine.log_likelihood(model, huge, trials))[valid]
    assert np.all(np.isfinite(ll)) and np.all(ll >= np.log(0.1 / 3) - 1e-12)


def test_parameter_clashes_and_missing_fields_raise_clear_errors():
    with pytest.raises(ValueError, match=r"already has parameter\(s\) \['kappa'\].*renamed"):
        M.with_perseveration(M.rescorla_wagner_perseveration())
    with pytest.raises(ValueError, match=r"\['kappa'\]"):
        M.with_perseveration(M.rescorla_wagner_pearce_hall())
    with pytest.raises(ValueError, match=r"\['xi'\]"):
        M.with_lapse(M.with_lapse(M.rescorla_wagner()))
    renamed = M.rescorla_wagner_pearce_hall().renamed({"kappa": "kappa_ph"})
    assert M.with_perseveration(renamed).param_names[-1] == "kappa"
    with pytest.raises(ValueError, match="no value vector 'v'"):
        M.with_forgetting(M.rescorla_wagner(), field="v")
    with pytest.raises(ValueError, match="no value vector 'v'"):
        M.with_free_initial_value(M.rescorla_wagner(), field="v")
    with pytest.raises(ValueError, match="one value per option"):
        M.with_forgetting(M.pst_Q())  # six stimulus values, two choices
    with pytest.raises(ValueError, match="apply with_free_initial_value first"):
        M.with_free_initial_value(M.with_forgetting(M.rescorla_wagner()))
    with pytest.raises(TypeError, match="bayesrl.Model"):
        M.with_lapse("rescorla_wagner")


def test_fields_are_found_through_wrapped_states():
    """Forgetting and q0 reach ``q`` inside a perseveration wrapper's ``base``."""
    model = M.with_forgetting(M.with_perseveration(M.with_free_initial_value(M.rescorla_wagner())))
    p = model.make_params({"alpha": 0.5, "beta": 1.0, "q0": 2.0, "kappa": 0.3, "phi": 0.25})
    s = model.init_state(2, p)
    np.testing.assert_allclose(np.asarray(s.base.q), [2.0, 2.0])
    t = model.trial_type(choice=0, valid=True, block_start=False, outcome=0.0)
    s = model.update(s, p, t)
    np.testing.assert_allclose(np.asarray(s.base.q), [1.0, 2.0])  # chosen: 2 + 0.5 (0 - 2); unchosen stays at q0
    s = model.update(s, p, t._replace(choice=1, outcome=4.0))
    np.testing.assert_allclose(np.asarray(s.base.q), [1.25, 3.0])  # unchosen decays 1 -> 1 + 0.25 (2 - 1)
    np.testing.assert_allclose(np.asarray(s.trace), [0.0, 1.0])


def test_fitted_variant_survives_save_and_load(tmp_path):
    model = M.with_lapse(M.rescorla_wagner())
    task = brl.tasks.bandit([0.75, 0.25], n_trials=40)
    sim = brl.simulate(model, {"alpha": 0.3, "beta": 3.0, "xi": 0.1}, task=task, n_participants=3, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny runs warn about ESS / R-hat
        fit = brl.fit(model, sim, num_warmup=30, num_samples=30, num_chains=1, seed=0, progress_bar=False)
    assert fit.metadata["model"]["library"] is True
    fit.save(tmp_path / "lapse.nc")
    again = brl.load_fit(tmp_path / "lapse.nc")  # no model= needed: rebuilt from "rescorla_wagner+lapse"
    assert again.model.name == "rescorla_wagner+lapse"
    assert again.model.param_names == ("alpha", "beta", "xi")
    np.testing.assert_array_equal(
        np.asarray(again.participants()["xi_mean"]), np.asarray(fit.participants()["xi_mean"])
    )
