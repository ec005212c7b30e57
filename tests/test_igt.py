"""Iowa Gambling Task: hBayesDM's file format, the payoff scale, hand-computed updates, the deck task."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import bayesrl as brl
from bayesrl import engine
from bayesrl.data import prepare
from bayesrl.models._igt import prospect_utility

IGT_MODELS = [brl.models.igt_pvl_delta, brl.models.igt_pvl_decay, brl.models.igt_vpp, brl.models.igt_orl]

# hBayesDM's igt_exampleData.txt layout: tab-separated, these five headers, losses negative
HBAYESDM_IGT = """trial\tchoice\tgain\tloss\tsubjID
1\t3\t50\t0\t1001
2\t2\t100\t0\t1001
3\t3\t50\t-50\t1001
4\t1\t100\t-150\t1001
5\t4\t50\t0\t1001
1\t2\t100\t-1250\t1002
2\t4\t50\t-250\t1002
3\t3\t50\t0\t1002
"""


@pytest.mark.parametrize("factory", IGT_MODELS)
def test_hbayesdm_igt_file_loads_unchanged(tmp_path, factory):
    path = tmp_path / "igt_exampleData.txt"
    path.write_text(HBAYESDM_IGT)
    model = factory()
    data = prepare(path, model)
    assert list(data.participants) == [1001, 1002]
    assert data.choice_base == 1 and data.n_options == 4
    np.testing.assert_array_equal(data.arrays["choice"], [[2, 1, 2, 0, 3], [1, 3, 2, 0, 0]])
    np.testing.assert_array_equal(data.arrays["gain"][0], [50, 100, 50, 100, 50])
    np.testing.assert_array_equal(data.arrays["loss"][1], [-1250, -250, 0, 0, 0])
    np.testing.assert_array_equal(data.arrays["valid"][1], [True, True, True, False, False])
    params = model.make_params({p: jnp.full(2, 0.5) for p in model.param_names})
    ll = np.asarray(engine.log_likelihood(model, params, data.trials(model)))
    np.testing.assert_allclose(ll[:, 0], np.log(0.25))  # every deck starts at 0
    assert np.all(np.isfinite(ll)) and np.all(ll[:, 1:3] < 0)


def test_pvl_delta_by_hand():
    """x = (gain - |loss|) / 100; u = x**alpha or -lambda (-x)**alpha; E(c) += A (u - E(c)); logits (3**cons - 1) E."""
    model = brl.models.igt_pvl_delta()
    p = model.make_params({"A": 0.5, "alpha": 0.5, "cons": 1.0, "lambda": 2.0})
    trial = model.trial_type(choice=2, valid=True, block_start=False, gain=100.0, loss=-500.0)
    s = model.update(model.init_state(4, p), p, trial)  # x = -4, u = -2 * 2 = -4
    np.testing.assert_allclose(np.asarray(s.ev), [0, 0, -2, 0])
    s = model.update(s, p, trial._replace(choice=0, gain=50.0, loss=350.0))  # positive loss read as -|loss|: x = -3
    np.testing.assert_allclose(np.asarray(s.ev), [-np.sqrt(3), 0, -2, 0])
    s = model.update(s, p, trial._replace(choice=1, gain=100.0, loss=0.0))  # x = 1, u = 1
    np.testing.assert_allclose(np.asarray(model.policy(s, p, trial)), 2.0 * np.array([-np.sqrt(3), 0.5, -2, 0]))


def test_pvl_decay_by_hand():
    model = brl.models.igt_pvl_decay()
    p = model.make_params({"A": 0.5, "alpha": 1.0, "cons": 1.0, "lambda": 2.0})
    trial = model.trial_type(choice=3, valid=True, block_start=False, gain=100.0, loss=0.0)
    s = model.update(model.init_state(4, p), p, trial)  # u = 1
    s = model.update(s, p, trial._replace(choice=0, gain=0.0, loss=-100.0))  # all decay by A, u = -2
    np.testing.assert_allclose(np.asarray(s.ev), [-2, 0, 0, 0.5])


def test_vpp_perseverance_by_hand():
    model = brl.models.igt_vpp()
    values = {"A": 0.5, "alpha": 1.0, "cons": 1.0, "lambda": 1.0, "epP": 0.4, "epN": -0.6, "K": 0.5, "w": 0.25}
    p = model.make_params(values)
    trial = model.trial_type(choice=1, valid=True, block_start=False, gain=100.0, loss=0.0)
    s = model.update(model.init_state(4, p), p, trial)  # gain: pers[1] = 0.4, ev[1] = 0.5
    s = model.update(s, p, trial._replace(choice=2, gain=50.0, loss=-250.0))  # loss: pers decays, pers[2] = -0.6
    np.testing.assert_allclose(np.asarray(s.pers), [0, 0.2, -0.6, 0])
    np.testing.assert_allclose(np.asarray(s.ev), [0, 0.5, -1.0, 0])
    v = 0.25 * np.asarray(s.ev) + 0.75 * np.asarray(s.pers)
    np.testing.assert_allclose(np.asarray(model.policy(s, p, trial)), 2.0 * v)
    # a zero net outcome counts as a gain (hBayesDM: outcome >= 0)
    s0 = model.update(model.init_state(4, p), p, trial._replace(gain=50.0, loss=-50.0))
    np.testing.assert_allclose(np.asarray(s0.pers), [0, 0.4, 0, 0])


def test_orl_crossed_fictive_rates_by_hand():
    """hBayesDM's igt_orl.stan: after a gain the unchosen decks' frequencies move with Apun, after a loss with Arew."""
    model = brl.models.igt_orl()
    p = model.make_params({"Arew": 0.5, "Apun": 0.25, "K": 1.0, "betaF": 2.0, "betaP": -1.0})
    trial = model.trial_type(choice=0, valid=True, block_start=False, gain=100.0, loss=0.0)
    s = model.update(model.init_state(4, p), p, trial)  # x = 1, sign 1
    np.testing.assert_allclose(np.asarray(s.ev), [0.5, 0, 0, 0])
    np.testing.assert_allclose(np.asarray(s.ef), [0.5, -0.25 / 3, -0.25 / 3, -0.25 / 3])
    np.testing.assert_allclose(np.asarray(s.pers), [1 / 3, 0, 0, 0])
    s2 = model.update(s, p, trial._replace(choice=1, gain=0.0, loss=-200.0))  # x = -2, sign -1
    ef = np.asarray(s.ef) + 0.5 * (1 / 3 - np.asarray(s.ef))
    ef[1] = s.ef[1] + 0.25 * (-1 - s.ef[1])
    np.testing.assert_allclose(np.asarray(s2.ef), ef)
    np.testing.assert_allclose(np.asarray(s2.ev), [0.5, -0.5, 0, 0])
    np.testing.assert_allclose(np.asarray(s2.pers), [1 / 9, 1 / 3, 0, 0])
    util = np.asarray(s2.ev) + 2.0 * np.asarray(s2.ef) - np.asarray(s2.pers)
    np.testing.assert_allclose(np.asarray(model.policy(s2, p, trial)), util)


@pytest.mark.parametrize("factory", IGT_MODELS)
def test_payscale_divides_the_net_outcome(factory, rng):
    """payscale=p on amounts times p/100 gives the likelihood of the default on the original amounts."""
    base, scaled = factory(), factory(payscale=10.0)
    assert base.options == {"payscale": 100.0} and scaled.options == {"payscale": 10.0}
    n = 40
    choice = rng.integers(0, 4, n)
    gain = rng.choice([50.0, 100.0], n)
    loss = rng.choice([0.0, -50.0, -250.0], n)
    params = base.make_params({k: jnp.asarray([v.constrain(0.3)]) for k, v in base.params.items()})

    def trials(g, l_):
        fields = {"choice": choice[None], "valid": np.ones((1, n), bool), "block_start": np.zeros((1, n), bool)}
        return base.trial_type(**{k: jnp.asarray(v) for k, v in {**fields, "gain": g[None], "loss": l_[None]}.items()})

    a = engine.log_likelihood(base, params, trials(gain, loss))
    b = engine.log_likelihood(scaled, params, trials(gain / 10, loss / 10))
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12)
    with pytest.raises(ValueError, match="payscale"):
        factory(payscale=0)


def test_prospect_utility_has_finite_gradients_at_zero_outcome():
    for x in (0.0, 1e-300, -2.0, 3.0):
        g = jax.grad(lambda a, lam, x=x: prospect_utility(x, a, lam), argnums=(0, 1))(0.7, 2.0)
        assert all(np.isfinite(float(v)) for v in g)
    np.testing.assert_allclose(float(prospect_utility(0.0, 0.7, 2.0)), 0.0)
    np.testing.assert_allclose(float(prospect_utility(-4.0, 0.5, 3.0)), -6.0)


def test_igt_task_schedule():
    gain, loss = brl.tasks.igt_schedule(100, seed=5)
    assert gain.shape == loss.shape == (100, 4) and np.all(loss <= 0)
    net = (gain + loss).reshape(10, 10, 4).sum(axis=1)  # every ten trials hold each deck's ten cards
    np.testing.assert_array_equal(net, np.tile([-250.0, -250.0, 250.0, 250.0], (10, 1)))
    np.testing.assert_array_equal((loss < 0).sum(axis=0), [50, 10, 50, 10])  # A, C frequent; B, D rare
    np.testing.assert_array_equal(gain[0], [100, 100, 50, 50])
    np.testing.assert_array_equal(brl.tasks.igt_schedule(100, seed=5)[1], loss)
    assert not np.array_equal(brl.tasks.igt_schedule(100, seed=6)[1], loss)
    assert brl.tasks.igt_schedule(35)[0].shape == (35, 4)
    with pytest.raises(ValueError, match="one gain per deck"):
        brl.tasks.igt_schedule(10, gains=(100, 100, 50))


def test_igt_task_simulates_and_reads_back():
    task = brl.tasks.igt(100, seed=2)
    assert task.n_options == 4 and task.provides() == ("gain", "loss")
    model = brl.models.igt_pvl_delta()
    sim = brl.simulate(
        model, {"A": 0.3, "alpha": 0.5, "cons": 2.0, "lambda": 2.0}, task=task, n_participants=20, seed=1
    )
    gain, loss = brl.tasks.igt_schedule(100, seed=2)
    t, c = sim["trial"].to_numpy() - 1, sim["choice"].to_numpy() - 1
    np.testing.assert_array_equal(sim["gain"], gain[t, c])  # the card of the chosen deck on that trial
    np.testing.assert_array_equal(sim["loss"], loss[t, c])
    late = sim[sim["trial"] > 50]
    assert late["choice"].isin([3, 4]).mean() > 0.6  # loss-averse learners come to prefer the good decks
    data = prepare(sim, model)
    assert data.choice_base == 1 and data.n_participants == 20


def test_hbayesdm_links_and_group_priors():
    """As igt_*.stan: Phi_approx and sigma ~ normal(0, 0.2) for bounded parameters, cauchy(0, 1) for the real ones."""
    for factory in IGT_MODELS:
        for name, spec in factory().params.items():
            assert spec.prior.mu_loc == 0.0 and spec.prior.mu_scale == 1.0, name
            if spec.link == "identity":
                assert (spec.prior.sigma_family, spec.prior.sigma_scale) == ("halfcauchy", 1.0), name
            else:
                assert spec.link == "phi_approx" and spec.lower == 0.0, name
                assert (spec.prior.sigma_family, spec.prior.sigma_scale) == ("halfnormal", 0.2), name
    uppers = {k: v.upper for k, v in brl.models.igt_vpp().params.items() if v.link != "identity"}
    assert uppers == {"A": 1, "alpha": 2, "cons": 5, "lambda": 10, "K": 1, "w": 1}
    assert {k: v.link for k, v in brl.models.igt_orl().params.items()} == {
        "Arew": "phi_approx",
        "Apun": "phi_approx",
        "K": "phi_approx",
        "betaF": "identity",
        "betaP": "identity",
    }
    assert brl.models.igt_orl().params["K"].upper == 5
