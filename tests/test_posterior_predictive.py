"""fit.posterior_predictive(): one-step-ahead and generative, in the ArviZ object, saved and loaded."""

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
import pytest
from small_fits import TASK, small_fit

import bayesrl as brl
from bayesrl import _arviz, engine, predictive

DIMS = ("chain", "draw", "participant", "trial")


@pytest.fixture(scope="module")
def fit():
    return small_fit()


@pytest.fixture(scope="module")
def one_step(fit):
    return fit.posterior_predictive("one_step", num_draws=20, seed=3)


@pytest.fixture(scope="module")
def generative(fit):
    task = brl.tasks.bandit(TASK["probabilities"], n_trials=40, reward=TASK["reward"], no_reward=TASK["no_reward"])
    return fit.posterior_predictive("generative", num_draws=20, seed=4, task=task)


def test_one_step_probabilities_are_exp_of_the_stored_log_likelihood(fit, one_step):
    pp = one_step
    assert pp["choice"].dims == DIMS and pp["choice_prob"].dims == (*DIMS, "option")
    assert pp["choice_prob"].shape == (2, 10, 5, 40, 2)
    assert list(pp["participant"].values) == list(fit.data.participants) == list(fit.posterior["participant"].values)
    assert pp.attrs["mode"] == "one_step" and pp.attrs["num_draws"] == 20
    ll = _arviz.group(fit.idata, "log_likelihood")["choice"].sel(draw=pp["draw"].values)
    ll = ll.transpose(*DIMS).values
    valid = fit.data.arrays["valid"]
    observed = fit.data.arrays["choice"]
    probs = pp["choice_prob"].values
    picked = np.take_along_axis(probs, np.broadcast_to(observed[..., None], probs.shape[:-1] + (1,)), -1)[..., 0]
    np.testing.assert_allclose(picked[..., valid], np.exp(ll[..., valid]), rtol=1e-10)
    np.testing.assert_allclose(probs[..., valid, :].sum(-1), 1.0)
    assert np.isnan(probs[..., ~valid, :]).all()  # masked trials and padding
    assert (pp["choice"].values[..., ~valid] == -1).all()
    assert set(np.unique(pp["choice"].values[..., valid])) == {0, 1}


def test_one_step_lands_in_the_idata_and_is_reproducible(fit, one_step):
    pp = fit.posterior_predictive("one_step", num_draws=20, seed=3)
    stored = _arviz.group(fit.idata, "posterior_predictive")
    np.testing.assert_array_equal(stored["choice"].values, one_step["choice"].values)
    np.testing.assert_array_equal(pp["choice_prob"].values, one_step["choice_prob"].values)
    draws = one_step["draw"].values
    assert len(draws) == 10 and set(draws) <= set(fit.posterior["draw"].values)
    other = fit.posterior_predictive("one_step", num_draws=20, seed=5)
    assert not np.array_equal(other["draw"].values, draws)
    # num_draws // num_chains from each chain, at least one; None keeps every draw
    assert len(predictive.draw_subset(2, 100, 7, seed=0)) == 3 and len(predictive.draw_subset(4, 100, 1, seed=0)) == 1
    np.testing.assert_array_equal(predictive.draw_subset(2, 100, None, seed=0), np.arange(100))
    np.testing.assert_array_equal(predictive.draw_subset(2, 100, 500, seed=0), np.arange(100))


def test_one_step_choices_are_drawn_from_the_one_step_probabilities(fit, one_step):
    valid = fit.data.arrays["valid"]
    p1 = one_step["choice_prob"].values[..., 1][..., valid]
    chose1 = one_step["choice"].values[..., valid] == 1
    se = np.sqrt((p1 * (1 - p1)).sum()) / p1.size
    assert abs(chose1.mean() - p1.mean()) < 4 * se


def test_generative_simulation_shapes_and_rates(fit, generative, one_step):
    sim = generative
    assert sim.attrs["mode"] == "generative" and sim.attrs["schedule"] == "task bandit"
    assert sim["choice"].dims == DIMS and sim["choice"].shape == (2, 10, 5, 40)
    assert sim["choice_prob"].shape == (2, 10, 5, 40, 2) and sim["outcome"].shape == (2, 10, 5, 40)
    assert set(np.unique(sim["choice"].values)) == {0, 1}
    assert set(np.unique(sim["outcome"].values)) == {-1.0, 1.0}
    # each simulated choice is drawn from the probabilities the simulation emitted
    p0 = sim["choice_prob"].values[..., 0]
    se = np.sqrt((p0 * (1 - p0)).sum()) / p0.size
    assert abs((sim["choice"].values == 0).mean() - p0.mean()) < 4 * se
    # a loose posterior predictive check: the simulated learners choose the better option
    # about as often as the one-step-ahead predictions of the observed learners say
    valid = fit.data.arrays["valid"]
    predicted = one_step["choice_prob"].values[..., 0][..., valid].mean()
    assert abs((sim["choice"].values == 0).mean() - predicted) < 0.1
    # the learners learn: the better arm is chosen more often late than early
    rate = (sim["choice"].values == 0).mean(axis=(0, 1, 2))
    assert rate[20:].mean() > rate[:10].mean()


def test_generative_needs_a_task_when_outcomes_depend_on_the_choice(fit):
    with pytest.raises(ValueError, match=r"needs a task.*\['outcome'\].*unchosen arm"):
        fit.posterior_predictive("generative")
    with pytest.raises(ValueError, match="3 options"):
        fit.posterior_predictive("generative", task=brl.tasks.bandit([0.5, 0.5, 0.5], n_trials=10))
    with pytest.raises(ValueError, match="mode must be"):
        fit.posterior_predictive("prior")
    with pytest.raises(ValueError, match="task= and condition= are for mode='generative'"):
        fit.posterior_predictive("one_step", task=brl.tasks.bandit([0.5, 0.5], n_trials=10))


class Belief(NamedTuple):
    q: jnp.ndarray  # (option,)


def _prediction_model():
    """Predict which of two events comes next; the event (outcome) does not depend on the prediction."""

    def update(s, p, t):
        event = jnp.where(t.outcome > 0, 0, 1)
        return Belief(s.q + p.alpha * ((jnp.arange(2) == event) - s.q))

    return brl.Model(
        name="event_prediction",
        params={"alpha": brl.unit(), "beta": brl.bounded(0.0, 5.0)},
        init_state=lambda n, p: Belief(jnp.full(n, 0.5)),
        policy=lambda s, p, t: p.beta * s.q,
        update=update,
        inputs=("outcome",),
    )


def test_generative_replays_the_observed_schedule_when_nothing_depends_on_the_choice(fit):
    model = _prediction_model()
    replay = brl.Fit(fit.idata, model, fit.data, fit.metadata)  # the same posterior draws of alpha, beta
    sim = replay.posterior_predictive("generative", num_draws=4, seed=1)
    assert sim.attrs["schedule"] == "observed" and "outcome" not in sim
    valid = fit.data.arrays["valid"]
    assert sim["choice"].shape == (2, 2, 5, 40)
    assert (sim["choice"].values[..., ~valid] == -1).all() and (sim["choice"].values[..., valid] >= 0).all()
    # the probabilities emitted while simulating are those the likelihood scores for the simulated choices
    post = fit.posterior.sel(draw=sim["draw"].values)
    trials = fit.data.trials(model)
    for c in range(2):
        for d in range(2):
            params = model.make_params({p: jnp.asarray(post[p].values[c, d]) for p in ("alpha", "beta")})
            simulated = trials._replace(choice=jnp.asarray(np.maximum(sim["choice"].values[c, d], 0)))
            scored = np.asarray(engine.logits(model, params, simulated))
            probs = np.exp(scored - scored.max(-1, keepdims=True))
            probs /= probs.sum(-1, keepdims=True)
            np.testing.assert_allclose(sim["choice_prob"].values[c, d][valid], probs[valid], rtol=1e-10)


def test_save_and_load_keep_the_posterior_predictive_group(fit, generative, tmp_path):
    _arviz.set_group(fit.idata, "posterior_predictive", generative)  # other tests replace the group
    fit.save(tmp_path / "pp.nc")
    again = brl.load_fit(tmp_path / "pp.nc")
    a = _arviz.group(fit.idata, "posterior_predictive")
    b = _arviz.group(again.idata, "posterior_predictive")
    assert set(a.data_vars) == set(b.data_vars) == {"choice", "choice_prob", "outcome"}
    for v in a.data_vars:
        assert a[v].dims == b[v].dims
        np.testing.assert_array_equal(a[v].values, b[v].values)
    np.testing.assert_array_equal(a["draw"].values, b["draw"].values)
    assert list(b["participant"].values) == list(a["participant"].values)
    assert b.attrs["mode"] == "generative" and int(b.attrs["num_draws"]) == 20
    # the rest of the fit is intact
    np.testing.assert_array_equal(again.posterior["alpha"].values, fit.posterior["alpha"].values)
    assert again.model.name == "rescorla_wagner"
