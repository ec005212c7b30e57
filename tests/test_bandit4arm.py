"""The 4-armed / N-armed bandit family: hBayesDM's file formats, tasks, and relations between the models."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import bayesrl as brl
from bayesrl import engine
from bayesrl.data import prepare
from bayesrl.models._bandit4arm import gain_loss_update, lapse_logits

# A few rows exactly as hBayesDM's bandit4arm_exampleData.txt and bandit4arm2_exampleData.txt.
BANDIT4ARM_TXT = """subjID\tgain\tloss\tchoice
102\t0\t0\t2
102\t1\t0\t1
102\t0\t-1\t1
102\t1\t0\t3
102\t1\t-1\t4
201\t0\t-1\t3
201\t1\t0\t3
201\t0\t0\t2
"""
BANDIT4ARM2_TXT = """subjID\tchoice\toutcome
1\t4\t33
1\t3\t84
1\t3\t88
1\t2\t36
2\t1\t57
2\t1\t61
"""


@pytest.mark.parametrize(
    "name",
    [
        "bandit4arm_4par",
        "bandit4arm_lapse",
        "bandit4arm_lapse_decay",
        "bandit4arm_singleA_lapse",
        "bandit4arm_2par_lapse",
    ],
)
def test_hbayesdm_bandit4arm_file_loads_unchanged(name, tmp_path):
    path = tmp_path / "bandit4arm_exampleData.txt"
    path.write_text(BANDIT4ARM_TXT)
    model = brl.models.get(name)()
    data = prepare(path, model)
    assert data.participants.tolist() == [102, 201]
    assert data.choice_base == 1 and data.n_trials.tolist() == [5, 3]
    np.testing.assert_array_equal(data.arrays["choice"], [[1, 0, 0, 2, 3], [2, 2, 1, 0, 0]])
    np.testing.assert_array_equal(data.arrays["gain"], [[0, 1, 0, 1, 1], [0, 1, 0, 0, 0]])
    np.testing.assert_array_equal(data.arrays["loss"], [[0, 0, -1, 0, -1], [-1, 0, 0, 0, 0]])
    np.testing.assert_array_equal(data.arrays["valid"], [[True] * 5, [True] * 3 + [False] * 2])
    ll = engine.log_likelihood(
        model, model.make_params({p: jnp.full(2, 0.3) for p in model.param_names}), data.trials(model)
    )
    np.testing.assert_allclose(np.asarray(ll)[:, 0], np.log(1 / 4))  # all values start at 0: uniform first choice


def test_hbayesdm_bandit4arm2_file_loads_unchanged(tmp_path):
    path = tmp_path / "bandit4arm2_exampleData.txt"
    path.write_text(BANDIT4ARM2_TXT)
    model = brl.models.bandit4arm2_kalman_filter()
    data = prepare(path, model)
    assert data.participants.tolist() == [1, 2] and data.n_trials.tolist() == [4, 2]
    np.testing.assert_array_equal(data.arrays["choice"], [[3, 2, 2, 1], [0, 0, 0, 0]])
    np.testing.assert_array_equal(data.arrays["outcome"], [[33, 84, 88, 36], [57, 61, 0, 0]])
    # hBayesDM's initial values, by hand for the second trial: Kalman update of arm 4, then diffusion
    init = {"lambda": 0.9, "theta": 50.0, "beta": 0.1, "mu0": 85.0, "sigma0": 6.0, "sigmaD": 3.0}
    params = model.make_params({k: jnp.full(2, v) for k, v in init.items()})
    lg = np.asarray(engine.logits(model, params, data.trials(model)))[0]
    k = 36.0 / (36.0 + 16.0)
    mean = np.full(4, 85.0)
    mean[3] += k * (33.0 - 85.0)
    np.testing.assert_allclose(lg[1], 0.1 * (0.9 * mean + 0.1 * 50.0), rtol=1e-12)


def test_lapse_logits_are_the_mixture_and_stay_finite():
    q = jnp.asarray([3.0, -1.0, 0.5, 800.0])
    for xi in (0.0, 1e-12, 0.3, 1.0 - 1e-12, 1.0):
        lp = np.asarray(lapse_logits(q, xi))
        np.testing.assert_allclose(np.exp(lp).sum(), 1.0, rtol=1e-12)
        soft = np.exp(np.asarray(jax.nn.log_softmax(q)))
        np.testing.assert_allclose(np.exp(lp), (1 - xi) * soft + xi / 4, rtol=1e-9, atol=1e-300)
        g = jax.grad(lambda x: lapse_logits(q, x)[1])(xi)
        assert np.isfinite(float(g))


def test_gain_loss_update_fictive_and_decay():
    v = jnp.asarray([1.0, -2.0, 4.0])
    out = np.asarray(gain_loss_update(v, 2, 10.0, 0.5, 0.25))
    np.testing.assert_allclose(out, [0.75, -1.5, 4.0 + 0.5 * 6.0])


def _gain_loss_table(rng, n=3, t=80):
    rows = [
        {
            "subjID": i,
            "choice": int(rng.integers(1, 5)),
            "gain": float(rng.random() < 0.5),
            "loss": -float(rng.random() < 0.3),
        }
        for i in range(n)
        for _ in range(t)
    ]
    return pd.DataFrame(rows)


def _ll(model, values, table):
    data = prepare(table, model)
    params = model.make_params({k: jnp.asarray(np.broadcast_to(v, data.n_participants)) for k, v in values.items()})
    return np.asarray(engine.log_likelihood(model, params, data.trials(model)))


def test_models_reduce_to_each_other(rng):
    table = _gain_loss_table(rng)
    m = brl.models
    four = _ll(m.bandit4arm_4par(), {"Arew": 0.3, "Apun": 0.6, "R": 4.0, "P": 7.0}, table)
    no_lapse = _ll(m.bandit4arm_lapse(), {"Arew": 0.3, "Apun": 0.6, "R": 4.0, "P": 7.0, "xi": 1e-300}, table)
    np.testing.assert_allclose(no_lapse, four, rtol=1e-12)
    single = _ll(m.bandit4arm_singleA_lapse(), {"A": 0.4, "R": 4.0, "P": 7.0, "xi": 0.2}, table)
    lapse = _ll(m.bandit4arm_lapse(), {"Arew": 0.4, "Apun": 0.4, "R": 4.0, "P": 7.0, "xi": 0.2}, table)
    np.testing.assert_allclose(single, lapse, rtol=1e-12)
    two = _ll(m.bandit4arm_2par_lapse(), {"Arew": 0.3, "Apun": 0.6, "xi": 0.2}, table)
    unit = _ll(m.bandit4arm_lapse(), {"Arew": 0.3, "Apun": 0.6, "R": 1.0, "P": 1.0, "xi": 0.2}, table)
    np.testing.assert_allclose(two, unit, rtol=1e-12)
    decay = _ll(m.bandit4arm_lapse_decay(), {"Arew": 0.3, "Apun": 0.3, "R": 4.0, "P": 7.0, "xi": 0.2, "d": 0.3}, table)
    same = _ll(m.bandit4arm_lapse(), {"Arew": 0.3, "Apun": 0.3, "R": 4.0, "P": 7.0, "xi": 0.2}, table)
    np.testing.assert_allclose(decay, same, rtol=1e-12)  # decay d = learning rate: fictive updating
    other = _ll(m.bandit4arm_lapse_decay(), {"Arew": 0.3, "Apun": 0.3, "R": 4.0, "P": 7.0, "xi": 0.2, "d": 0.05}, table)
    assert np.abs(other - same).max() > 1e-3  # control: a different decay changes the likelihood


def test_positive_losses_are_read_as_punishments(rng):
    table = _gain_loss_table(rng)
    flipped = table.assign(loss=table["loss"].abs())
    model = brl.models.bandit4arm_4par()
    values = {"Arew": 0.3, "Apun": 0.6, "R": 4.0, "P": 7.0}
    np.testing.assert_allclose(_ll(model, values, flipped), _ll(model, values, table), rtol=1e-12)


def test_parameters_and_priors_match_hbayesdm():
    m = brl.models.bandit4arm_lapse_decay()
    assert m.param_names == ("Arew", "Apun", "R", "P", "xi", "d") and m.columns == ("gain", "loss")
    assert m.params["R"].upper == 30 and m.params["P"].link == "phi_approx" and m.n_options == 4
    assert all(p.prior == brl.Prior(sigma_scale=0.2) for p in m.params.values())
    assert brl.models.bandit4arm_singleA_lapse().param_names == ("A", "R", "P", "xi")
    assert brl.models.bandit4arm_2par_lapse().param_names == ("Arew", "Apun", "xi")
    k = brl.models.bandit4arm2_kalman_filter()
    assert k.param_names == ("lambda", "theta", "beta", "mu0", "sigma0", "sigmaD")
    assert [k.params[p].upper for p in k.param_names] == [1, 100, 1, 100, 15, 15]
    assert all(p.prior == brl.Prior(sigma_family="halfcauchy", sigma_scale=5.0) for p in k.params.values())
    assert brl.models.bandit4arm_4par(n_options=6).n_options == 6


def test_kalman_filter_keyword_parameter_through_simulate_and_hierarchy():
    """``lambda`` (a Python keyword) works in simulation, the hierarchy and the posterior names."""
    from numpyro.infer.util import log_density

    from bayesrl.hierarchy import hierarchical_model, resolve_priors

    model = brl.models.bandit4arm2_kalman_filter()
    task = brl.tasks.drifting_bandit(n_trials=40, seed=1)
    df = brl.simulate(
        model,
        {"lambda": 0.9, "theta": 50.0, "beta": 0.2, "mu0": 60.0, "sigma0": 6.0, "sigmaD": 3.0},
        task=task,
        seed=2,
    )
    assert "true_lambda" in df.columns and len(df) == 40
    data = prepare(df, model)
    values = {f"{p}{s}": jnp.asarray(0.1) for p in model.param_names for s in ("_mu", "_sigma")}
    values.update({f"{p}_z": jnp.zeros(1) for p in model.param_names})
    lp = log_density(hierarchical_model, (model, data.trials(model), resolve_priors(model, None)), {}, values)[0]
    assert np.isfinite(float(lp))


def test_random_walk_probabilities_stay_in_bounds_and_repeat_by_seed():
    p = brl.tasks.random_walk_probabilities(500, 4, sd=0.1, seed=7)
    assert p.shape == (500, 4) and p.min() >= 0.25 and p.max() <= 0.75
    assert np.abs(np.diff(p, axis=0)).max() < 0.6 and np.std(p[:, 0]) > 0.05
    np.testing.assert_array_equal(p, brl.tasks.random_walk_probabilities(500, 4, sd=0.1, seed=7))
    assert not np.allclose(p, brl.tasks.random_walk_probabilities(500, 4, sd=0.1, seed=8))
    with pytest.raises(ValueError, match="lower < upper"):
        brl.tasks.random_walk_probabilities(10, 4, lower=0.8, upper=0.2)


def test_gain_loss_bandit_draws_gains_and_losses_with_their_probabilities():
    task = brl.tasks.gain_loss_bandit([0.8, 0.2, 0.5], [0.1, 0.6, 0.5], n_trials=10, gain=2.0, loss=-3.0)
    assert task.n_options == 3 and task.n_trials == 10 and task.outcome_fields == ("gain", "loss")
    keys = jax.random.split(jax.random.PRNGKey(0), 4000)
    for choice, pg, pl in ((0, 0.8, 0.1), (1, 0.2, 0.6)):
        out = jax.vmap(lambda k, c=choice: task.respond(k, 3, c))(keys)
        g, lo = np.asarray(out["gain"]), np.asarray(out["loss"])
        assert set(np.unique(g)) <= {0.0, 2.0} and set(np.unique(lo)) <= {0.0, -3.0}
        assert abs((g == 2.0).mean() - pg) < 0.03 and abs((lo == -3.0).mean() - pl) < 0.03
    with pytest.raises(ValueError, match="n_trials"):
        brl.tasks.gain_loss_bandit([0.5, 0.5], [0.5, 0.5])
    with pytest.raises(ValueError, match="differ in shape"):
        brl.tasks.gain_loss_bandit([0.5, 0.5], [0.5, 0.5, 0.5], n_trials=4)


def test_drifting_bandit_pays_rounded_noise_around_one_shared_walk():
    means = brl.tasks.drifting_means(300, 4, seed=5)
    np.testing.assert_array_equal(means, brl.tasks.drifting_means(300, 4, seed=5))
    task = brl.tasks.drifting_bandit(300, 4, seed=5)
    keys = jax.random.split(jax.random.PRNGKey(1), 4000)
    t = 120
    pay = np.asarray(jax.vmap(lambda k: task.respond(k, t, 2)["outcome"])(keys))
    assert np.all(pay == np.round(pay)) and pay.min() >= 1 and pay.max() <= 100
    assert abs(pay.mean() - np.clip(means[t, 2], 1, 100)) < 0.5 and abs(pay.std() - 4.0) < 0.3
    # every simulated participant sees the same walk: payoffs scatter by payoff_sd around it
    model = brl.models.bandit4arm2_kalman_filter()
    walk = {"lambda": 0.9, "theta": 50, "beta": 0.0, "mu0": 50, "sigma0": 5, "sigmaD": 3}
    df = brl.simulate(model, walk, task=task, n_participants=20, seed=3)
    resid = df["outcome"].to_numpy() - np.clip(means[df["trial"] - 1, df["choice"] - 1], 1, 100)
    assert len(df) == 20 * 300 and abs(resid.mean()) < 0.2 and abs(resid.std() - 4.0) < 0.2
    fixed = brl.tasks.drifting_bandit(means=np.full((5, 3), 1000.0))
    assert fixed.n_trials == 5 and fixed.n_options == 3
    assert float(fixed.respond(jax.random.PRNGKey(0), 0, 1)["outcome"]) == 100.0  # clipped to [1, 100]
    with pytest.raises(ValueError, match="only apply"):
        brl.tasks.drifting_bandit(means=np.zeros((5, 3)), decay=0.5)


def test_drifting_bandit_can_pay_in_gain_and_loss_columns():
    means = np.array([[30.0, -20.0]] * 4)
    task = brl.tasks.drifting_bandit(means=means, payoff_sd=0.0, lower=-100, fields="gain_loss")
    assert task.outcome_fields == ("gain", "loss")
    key = jax.random.PRNGKey(0)
    assert {k: float(v) for k, v in task.respond(key, 0, 0).items()} == {"gain": 30.0, "loss": 0.0}
    assert {k: float(v) for k, v in task.respond(key, 0, 1).items()} == {"gain": 0.0, "loss": -20.0}
    with pytest.raises(ValueError, match="fields must be"):
        brl.tasks.drifting_bandit(10, fields="payoff")


@pytest.mark.parametrize("suffix", ["4par", "lapse", "lapse_decay", "singleA_lapse", "2par_lapse"])
def test_banditNarm_models_are_the_bandit4arm_models_for_n_arms(suffix):  # noqa: N802
    narm = brl.models.get(f"banditNarm_{suffix}")(n_options=5)
    four = brl.models.get(f"bandit4arm_{suffix}")(n_options=5)
    assert narm.name == f"banditNarm_{suffix}" and narm.n_options == 5 and narm.params == four.params
    assert brl.models.get(f"banditNarm_{suffix}")().n_options == 4  # hBayesDM's Narm when the file has 4 arms
    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "subjID": np.repeat([1, 2], 30), "choice": rng.integers(1, 6, 60),
        "gain": rng.choice([0.0, 1.0], 60), "loss": rng.choice([0.0, -1.0], 60),
    })  # fmt: skip
    data = prepare(df, narm)
    params = narm.make_params({k: jnp.full((2,), 0.3) for k in narm.params})
    np.testing.assert_allclose(
        engine.log_likelihood(narm, params, data.trials(narm)), engine.log_likelihood(four, params, data.trials(four))
    )


def test_banditNarm_delta_and_kalman_read_the_net_payoff():  # noqa: N802
    """gain - |loss| as one payoff: the same fit quantities as the outcome-column models given that payoff."""
    rng = np.random.default_rng(1)
    df = pd.DataFrame({
        "subjID": np.repeat(["a", "b"], 25), "choice": rng.integers(1, 4, 50),
        "gain": rng.integers(0, 80, 50).astype(float), "loss": rng.integers(-20, 21, 50).astype(float),
    })  # fmt: skip
    net = df.assign(outcome=df["gain"] - df["loss"].abs()).drop(columns=["gain", "loss"])
    pairs = [
        (brl.models.banditNarm_delta(3), brl.models.bandit2arm_delta(3)),
        (brl.models.banditNarm_kalman_filter(3), brl.models.bandit4arm2_kalman_filter(3)),
    ]
    for narm, single in pairs:
        assert narm.columns == ("gain", "loss") and narm.params.keys() == single.params.keys()
        params = narm.make_params({k: jnp.full((2,), 0.4) for k in narm.params})
        d_narm, d_single = prepare(df, narm), prepare(net, single)
        np.testing.assert_allclose(
            engine.log_likelihood(narm, params, d_narm.trials(narm)),
            engine.log_likelihood(single, params, d_single.trials(single)),
            rtol=1e-6,
        )
