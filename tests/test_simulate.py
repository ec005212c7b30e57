import numpy as np
import pandas as pd
import pytest

import bayesrl as brl


def test_simulate_returns_the_long_format_fit_reads():
    model = brl.models.rescorla_wagner()
    task = brl.tasks.bandit([0.7, 0.3], n_trials=100)
    sim = brl.simulate(model, {"alpha": [0.2, 0.5, 0.8], "beta": 3.0}, task=task, seed=1)
    assert list(sim.columns) == ["participant", "trial", "choice", "outcome", "true_alpha", "true_beta"]
    assert len(sim) == 300 and set(sim["choice"]) == {1, 2} and set(sim["outcome"]) <= {0.0, 1.0}
    assert sim.groupby("participant")["true_alpha"].first().tolist() == [0.2, 0.5, 0.8]
    data = brl.data.prepare(sim, model)
    assert data.choice_base == 1 and data.n_participants == 3
    # learners choose the better option more often than chance
    assert (sim["choice"] == 1).mean() > 0.6


def test_simulate_from_group_values_and_dataframe_params():
    model = brl.models.rescorla_wagner()
    task = brl.tasks.bandit([0.7, 0.3], n_trials=20)
    sim = brl.simulate(
        model,
        group={"alpha_mu": 0.0, "alpha_sigma": 0.0, "beta_mu": 0.0, "beta_sigma": 0.0},
        n_participants=4,
        task=task,
        seed=0,
    )
    np.testing.assert_allclose(sim["true_alpha"], 0.5, rtol=1e-6)  # Phi_approx(0) = 0.5
    np.testing.assert_allclose(sim["true_beta"], 2.5, rtol=1e-6)
    table = pd.DataFrame({"alpha": [0.1, 0.9], "beta": [1.0, 4.0]}, index=pd.Index(["a", "b"], name="participant"))
    sim2 = brl.simulate(model, table, task=task, seed=0, choice_base=0)
    assert sim2["participant"].unique().tolist() == ["a", "b"] and set(sim2["choice"]) <= {0, 1}


def test_same_seed_same_simulation_and_reversal_schedule():
    model = brl.models.rescorla_wagner()
    schedule = brl.tasks.reversal_schedule([0.9, 0.1], n_trials=80, every=40)
    assert schedule.shape == (80, 2) and schedule[0, 0] == 0.9 and schedule[40, 0] == 0.1
    task = brl.tasks.bandit(schedule)
    a = brl.simulate(model, {"alpha": 0.6, "beta": 5.0}, n_participants=30, task=task, seed=3)
    b = brl.simulate(model, {"alpha": 0.6, "beta": 5.0}, n_participants=30, task=task, seed=3)
    pd.testing.assert_frame_equal(a, b)
    late_first, late_second = a[a.trial.between(30, 40)], a[a.trial.between(70, 80)]
    assert (late_first.choice == 1).mean() > 0.7 and (late_second.choice == 2).mean() > 0.7


def test_simulate_errors():
    model = brl.models.rescorla_wagner()
    task = brl.tasks.bandit([0.7, 0.3], n_trials=10)
    with pytest.raises(ValueError, match="exactly one"):
        brl.simulate(model, task=task)
    with pytest.raises(ValueError, match="missing \\['beta'\\]"):
        brl.simulate(model, {"alpha": 0.5}, task=task)
    with pytest.raises(ValueError, match="outside \\[0, 5\\]"):
        brl.simulate(model, {"alpha": 0.5, "beta": 7.0}, task=task)
    with pytest.raises(ValueError, match="n_participants"):
        brl.simulate(model, group={"alpha_mu": 0, "alpha_sigma": 1, "beta_mu": 0, "beta_sigma": 1}, task=task)
    with pytest.raises(ValueError, match="3 options"):
        brl.simulate(model, {"alpha": 0.5, "beta": 1.0}, task=brl.tasks.bandit([0.2, 0.3, 0.5], n_trials=5))
    with pytest.raises(ValueError, match="n_trials"):
        brl.tasks.bandit([0.7, 0.3])


def test_simulated_blocks_are_written_so_a_refit_resets_where_the_task_did():
    model = brl.models.prl_fictitious()
    task = brl.tasks.probabilistic_reversal(30, n_blocks=3)
    sim = brl.simulate(model, {"eta": 0.3, "alpha": 0.0, "beta": 2.0}, n_participants=2, task=task, seed=0)
    assert sorted(sim["block"].unique()) == [1, 2, 3]
    data = brl.data.prepare(sim, model)
    expected = task.block_start & (np.arange(task.n_trials) > 0)
    np.testing.assert_array_equal(data.arrays["block_start"], np.stack([expected, expected]))
    one_block = brl.simulate(
        brl.models.rescorla_wagner(), {"alpha": 0.3, "beta": 1.0}, task=brl.tasks.bandit([0.7, 0.3], 10)
    )
    assert "block" not in one_block.columns
