"""Probabilistic selection task: hBayesDM's file format, choice coding, the task environment."""

import jax.numpy as jnp
import numpy as np
import pytest

import bayesrl as brl
from bayesrl import engine
from bayesrl.data import prepare

# hBayesDM's pst_exampleData.txt layout: tab-separated, these four headers, choice 1 = first option of the pair
HBAYESDM_PST = """subjID\ttype\tchoice\treward
1\t12\t0\t0
1\t56\t1\t0
1\t34\t0\t0
1\t34\t1\t1
1\t12\t1\t1
2\t12\t1\t1
2\t56\t1\t1
2\t34\t1\t0
"""


@pytest.mark.parametrize("factory", [brl.models.pst_Q, brl.models.pst_gainloss_Q])
def test_hbayesdm_pst_file_loads_unchanged(tmp_path, factory):
    path = tmp_path / "pst_exampleData.txt"
    path.write_text(HBAYESDM_PST)
    data = prepare(path, factory())
    assert list(data.participants) == [1, 2]
    assert data.choice_base == 0  # fixed by the model: 1 means "chose the first option", not option 1 of 1..2
    np.testing.assert_array_equal(data.arrays["choice"], [[0, 1, 0, 1, 1], [1, 1, 1, 0, 0]])
    np.testing.assert_array_equal(data.arrays["type"], [[12, 56, 34, 34, 12], [12, 56, 34, 0, 0]])
    np.testing.assert_array_equal(data.arrays["outcome"], [[0, 0, 0, 1, 1], [1, 1, 0, 0, 0]])
    np.testing.assert_array_equal(data.arrays["valid"][1], [True, True, True, False, False])
    assert data.column_map["outcome"] == "reward"
    # participant 2 chose only "1" on its own: still read as 0-based under the model's fixed coding
    only_ones = prepare(path, factory()).arrays["choice"][1, :3]
    np.testing.assert_array_equal(only_ones, [1, 1, 1])


def test_pst_logits_follow_the_pair_and_the_hbayesdm_choice_coding(tmp_path):
    """Hand-computed: after a rewarded choice of stimulus 1 (alpha 0.5), P(chose first | 12) = logistic(beta * 0.5)."""
    path = tmp_path / "pst.txt"
    path.write_text("subjID\ttype\tchoice\treward\n1\t12\t1\t1\n1\t12\t0\t1\n1\t21\t1\t0\n1\t34\t0\t1\n")
    model = brl.models.pst_Q()
    data = prepare(path, model)
    params = model.make_params({"alpha": jnp.asarray([0.5]), "beta": jnp.asarray([2.0])})
    lg = np.asarray(engine.logits(model, params, data.trials(model)))[0]
    # [beta * Q(second), beta * Q(first)]
    np.testing.assert_allclose(lg[0], [0.0, 0.0])
    np.testing.assert_allclose(lg[1], [0.0, 1.0])  # Q1 = 0.5 after trial 1
    np.testing.assert_allclose(lg[2], [1.0, 1.0])  # trial 2 chose stimulus 2 (choice 0): Q2 = 0.5; pair 21
    np.testing.assert_allclose(lg[3], [0.0, 0.0])  # trial 3 chose stimulus 2 (first of "21"), unrelated pair 34
    ll = np.asarray(engine.log_likelihood(model, params, data.trials(model)))[0]
    np.testing.assert_allclose(ll[1], -np.log1p(np.exp(1.0)))  # chose the second option, logit of first = 1


def test_pst_gainloss_uses_alpha_pos_at_zero_prediction_error():
    """hBayesDM: ``alpha = (pe >= 0) ? alpha_pos : alpha_neg``."""
    model = brl.models.pst_gainloss_Q()
    p = model.make_params({"alpha_pos": 0.25, "alpha_neg": 0.75, "beta": 1.0})
    trial = model.trial_type(choice=1, valid=True, block_start=False, type=12.0, outcome=-1.0)
    s = model.update(model.init_state(2, p), p, trial)  # pe = -1 -> alpha_neg
    np.testing.assert_allclose(np.asarray(s.q), [-0.75, 0, 0, 0, 0, 0])
    s = model.update(s, p, trial._replace(outcome=-0.75))  # pe = 0 -> alpha_pos (no change either way)
    s = model.update(s, p, trial._replace(outcome=0.25))  # pe = 1 -> alpha_pos
    np.testing.assert_allclose(np.asarray(s.q), [-0.5, 0, 0, 0, 0, 0])


def test_pst_options_and_errors():
    m = brl.models.pst_Q(n_stimuli=4)
    assert m.options["n_stimuli"] == 4 and m.n_options == 2 and m.choice_base == 0
    assert m.columns == ("type", "outcome")
    with pytest.raises(ValueError, match="n_stimuli"):
        brl.models.pst_Q(n_stimuli=10)


def test_pst_task_is_balanced_seeded_and_rewards_by_pair():
    task = brl.tasks.pst(300, seed=3)
    codes, counts = np.unique(task.inputs["type"], return_counts=True)
    np.testing.assert_array_equal(codes, [12, 34, 56])
    np.testing.assert_array_equal(counts, [100, 100, 100])
    np.testing.assert_array_equal(task.inputs["type"], brl.tasks.pst(300, seed=3).inputs["type"])
    assert not np.array_equal(task.inputs["type"], brl.tasks.pst(300, seed=4).inputs["type"])
    assert task.n_options == 2 and task.provides() == ("type", "outcome")
    # a learner that always picks the first option earns each pair's probability
    model = brl.models.pst_Q()
    sim = brl.simulate(model, {"alpha": 0.3, "beta": 10.0}, task=brl.tasks.pst(600), n_participants=20, choice_base=0)
    first = sim[sim["choice"] == 1]
    rates = first.groupby("type")["outcome"].mean()
    np.testing.assert_allclose(rates.to_numpy(), [0.8, 0.7, 0.6], atol=0.05)
    second = sim[sim["choice"] == 0].groupby("type")["outcome"].mean()
    assert np.all(second.to_numpy() < rates.to_numpy())
    # what brl.simulate writes (choice coded 0/1 as hBayesDM codes it) is read back by the model
    data = prepare(sim, model)
    np.testing.assert_array_equal(data.arrays["choice"].ravel(), sim["choice"].to_numpy())
    with pytest.raises(ValueError, match="one probability"):
        brl.tasks.pst(10, probabilities=(0.8, 0.7))
    with pytest.raises(ValueError, match="1..9"):
        brl.tasks.pst(10, pairs=((1, 1),), probabilities=(0.5,))
