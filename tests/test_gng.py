"""Orthogonalised go/no-go: hBayesDM's file format, the choice coding, hand-computed values, the task."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import bayesrl as brl
from bayesrl import engine
from bayesrl.data import DataError, prepare
from bayesrl.models._gng import go_nogo_logits

GNG_MODELS = [brl.models.gng_m1, brl.models.gng_m2, brl.models.gng_m3, brl.models.gng_m4]

# hBayesDM's gng_exampleData.txt layout: tab-separated, these seven headers; rows out of
# trialNum order (trialNum orders them); participant 2 pressed on every trial
HBAYESDM_GNG = """trialNum\tcue\tkeyPressed\tsuccess\tcongruentOutcome\toutcome\tsubjID
1\t1\t1\t1\t2\t0\t1
3\t4\t0\t1\t1\t0\t1
2\t2\t0\t1\t1\t1\t1
4\t4\t1\t0\t1\t-1\t1
1\t3\t1\t1\t1\t0\t2
2\t1\t1\t1\t1\t1\t2
3\t1\t1\t1\t1\t1\t2
"""


@pytest.mark.parametrize("factory", GNG_MODELS)
def test_hbayesdm_gng_file_loads_unchanged(tmp_path, factory):
    path = tmp_path / "gng_exampleData.txt"
    path.write_text(HBAYESDM_GNG)
    model = factory()
    data = prepare(path, model)
    assert data.column_map["choice"] == "keyPressed" and data.column_map["trial"] == "trialNum"
    assert list(data.participants) == [1, 2]
    assert data.choice_base == 0  # fixed by the model: 1 = go, even for participant 2 who always pressed
    np.testing.assert_array_equal(data.arrays["choice"], [[1, 0, 0, 1], [1, 1, 1, 0]])
    np.testing.assert_array_equal(data.arrays["cue"], [[1, 2, 4, 4], [3, 1, 1, 0]])
    np.testing.assert_array_equal(data.arrays["outcome"], [[0, 1, 0, -1], [0, 1, 1, 0]])
    np.testing.assert_array_equal(data.arrays["valid"][1], [True, True, True, False])
    params = model.make_params({p: jnp.full(2, spec.constrain(0.0)) for p, spec in model.params.items()})
    ll = np.asarray(engine.log_likelihood(model, params, data.trials(model)))
    np.testing.assert_allclose(ll[:, 0], np.log(0.5))  # values, b and pi all 0: p(go) = 0.5
    assert np.all(np.isfinite(ll)) and np.all(ll[data.arrays["valid"]] < 0)


def test_gng_m1_by_hand():
    """p(go) = (1 - xi) logistic(Q_go(s) - Q_nogo(s)) + xi / 2; only the action taken learns, for that cue."""
    model = brl.models.gng_m1()
    p = model.make_params({"xi": 0.2, "ep": 0.5, "rho": 2.0})
    trial = model.trial_type(choice=1, valid=True, block_start=False, cue=1.0, outcome=1.0)
    s = model.update(model.init_state(2, p), p, trial)  # go on cue 1, rewarded: Q_go(1) = 0.5 * 2 = 1
    s = model.update(s, p, trial._replace(choice=0, cue=3.0, outcome=-1.0))  # no-go on cue 3: Q_nogo(3) = -1
    np.testing.assert_allclose(np.asarray(s.q_go), [1, 0, 0, 0])
    np.testing.assert_allclose(np.asarray(s.q_nogo), [0, 0, -1, 0])
    p_go = 0.8 / (1 + np.exp(-1.0)) + 0.1
    lg = np.asarray(model.policy(s, p, trial))
    np.testing.assert_allclose(lg, [np.log(1 - p_go), np.log(p_go)])
    lg3 = np.asarray(model.policy(s, p, trial._replace(cue=3.0)))
    p_go3 = 0.8 / (1 + np.exp(-1.0)) + 0.1  # W_go - W_nogo = 0 - (-1)
    np.testing.assert_allclose(lg3, [np.log(1 - p_go3), np.log(p_go3)])


def test_gng_m3_and_m4_pavlovian_terms_by_hand():
    m3 = brl.models.gng_m3()
    p = m3.make_params({"xi": 0.0, "ep": 0.5, "b": 0.3, "pi": 2.0, "rho": 1.0})
    trial = m3.trial_type(choice=0, valid=True, block_start=False, cue=2.0, outcome=1.0)
    s = m3.update(m3.init_state(2, p), p, trial)  # no-go rewarded on cue 2: Q_nogo(2) = V(2) = 0.5
    np.testing.assert_allclose(np.asarray(s.sv), [0, 0.5, 0, 0])
    lg = np.asarray(m3.policy(s, p, trial))  # W_go = 0 + 0.3 + 2 * 0.5, W_nogo = 0.5
    np.testing.assert_allclose(np.exp(lg[1]), 1 / (1 + np.exp(-0.8)), rtol=1e-6)
    m4 = brl.models.gng_m4()
    p4 = m4.make_params({"xi": 0.0, "ep": 0.5, "b": 0.0, "pi": 1.0, "rhoRew": 2.0, "rhoPun": 4.0})
    s4 = m4.update(m4.init_state(2, p4), p4, trial._replace(choice=1, outcome=-1.0))  # punished go: rhoPun
    np.testing.assert_allclose(np.asarray(s4.q_go), [0, -2, 0, 0])
    np.testing.assert_allclose(np.asarray(s4.sv), [0, -2, 0, 0])
    s4 = m4.update(s4, p4, trial._replace(choice=1, outcome=1.0))  # rewarded go: rhoRew
    np.testing.assert_allclose(np.asarray(s4.q_go), [0, 0, 0, 0])


def test_go_nogo_logits_are_stable_log_probabilities():
    for gap in (-1e4, -30.0, 0.0, 30.0, 1e4):
        for xi in (0.0, 1e-12, 0.3, 1.0):
            lg = np.asarray(go_nogo_logits(gap, 0.0, xi))
            assert np.all(np.isfinite(lg))
            np.testing.assert_allclose(np.exp(lg).sum(), 1.0, rtol=1e-12)
            p_go = (1 - xi) / (1 + np.exp(-np.clip(gap, -700, 700))) + xi / 2
            np.testing.assert_allclose(np.exp(lg[1]), p_go, rtol=1e-9, atol=1e-300)
    # far apart weights with a small lapse: log P(no-go) is log(xi / 2), not -inf
    np.testing.assert_allclose(float(go_nogo_logits(1e4, 0.0, 0.02)[0]), np.log(0.01), rtol=1e-9)
    grad = jax.grad(lambda w, xi: go_nogo_logits(w, 0.0, xi)[0], argnums=(0, 1))(50.0, 0.0)
    assert all(np.isfinite(float(g)) for g in grad)


def test_keypressed_and_choice_together_are_ambiguous():
    df = pd.DataFrame({"subjID": [1, 1], "cue": [1, 2], "keyPressed": [1, 0], "choice": [1, 0], "outcome": [1, 0]})
    with pytest.raises(DataError, match="keyPressed"):
        prepare(df, brl.models.gng_m1())
    data = prepare(df, brl.models.gng_m1(), columns={"choice": "keyPressed"})
    np.testing.assert_array_equal(data.arrays["choice"], [[1, 0]])


def test_gng_options_and_inputs():
    m = brl.models.gng_m2(n_cues=6)
    assert m.options == {"n_cues": 6} and m.n_options == 2 and m.choice_base == 0
    assert m.columns == ("cue", "outcome") and m.inputs == ("cue",)
    assert np.asarray(m.init_state(2, m.make_params(dict.fromkeys(m.param_names, 0.1))).q_go).shape == (6,)
    with pytest.raises(ValueError, match="n_cues"):
        brl.models.gng_m1(n_cues=0)


def test_go_nogo_task_is_balanced_seeded_and_probabilistic():
    task = brl.tasks.go_nogo(240, seed=4)
    cues, counts = np.unique(task.inputs["cue"], return_counts=True)
    np.testing.assert_array_equal(cues, [1, 2, 3, 4])
    np.testing.assert_array_equal(counts, [60, 60, 60, 60])
    np.testing.assert_array_equal(task.inputs["cue"], brl.tasks.go_nogo(240, seed=4).inputs["cue"])
    assert not np.array_equal(task.inputs["cue"], brl.tasks.go_nogo(240, seed=5).inputs["cue"])
    assert task.n_options == 2 and task.provides() == ("cue", "outcome")
    # a random responder (xi = 1): correct actions get the good outcome 80% of the time
    model = brl.models.gng_m1()
    sim = brl.simulate(model, {"xi": 1.0, "ep": 0.1, "rho": 1.0}, task=task, n_participants=40, seed=3)
    assert set(sim.columns) >= {"participant", "trial", "choice", "cue", "outcome"}
    correct_go = sim["cue"].isin([1, 3])
    correct = np.where(correct_go, sim["choice"] == 1, sim["choice"] == 0)
    win = sim["cue"].isin([1, 2])
    assert set(sim.loc[win, "outcome"]) <= {0.0, 1.0} and set(sim.loc[~win, "outcome"]) <= {-1.0, 0.0}
    good = np.where(win, sim["outcome"] == 1, sim["outcome"] == 0)
    np.testing.assert_allclose(good[correct].mean(), 0.8, atol=0.03)
    np.testing.assert_allclose(good[~correct].mean(), 0.2, atol=0.03)
    data = prepare(sim, model)  # what brl.simulate writes (choice 0/1) is read back with the fixed coding
    np.testing.assert_array_equal(data.arrays["choice"].ravel(), sim["choice"].to_numpy())
    with pytest.raises(ValueError, match="p_correct"):
        brl.tasks.go_nogo(10, p_correct=1.5)


def test_learners_come_to_act_correctly():
    task = brl.tasks.go_nogo(240, seed=1)
    sim = brl.simulate(brl.models.gng_m1(), {"xi": 0.05, "ep": 0.3, "rho": 5.0}, task=task, n_participants=20)
    late = sim[sim["trial"] > 120]
    correct = np.where(late["cue"].isin([1, 3]), late["choice"] == 1, late["choice"] == 0)
    assert correct.mean() > 0.7


def test_hbayesdm_links_and_group_priors():
    """gng_m*.stan: xi, ep Phi_approx; rho* exp, sigma ~ normal(0, 0.2); b, pi mu ~ N(0, 10), sigma ~ cauchy(0, 1)."""
    for factory in GNG_MODELS:
        for name, spec in factory().params.items():
            prior = spec.prior
            if name in ("xi", "ep"):
                assert spec.link == "phi_approx" and (spec.lower, spec.upper) == (0, 1)
                assert (prior.mu_scale, prior.sigma_family, prior.sigma_scale) == (1.0, "halfnormal", 0.2)
            elif name.startswith("rho"):
                assert spec.link == "exp" and spec.lower == 0
                assert (prior.mu_scale, prior.sigma_family, prior.sigma_scale) == (1.0, "halfnormal", 0.2)
            else:
                assert name in ("b", "pi") and spec.link == "identity"
                assert (prior.mu_scale, prior.sigma_family, prior.sigma_scale) == (10.0, "halfcauchy", 1.0)
