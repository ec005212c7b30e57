"""Two-step task: hBayesDM's file format, two observed stages, hand-computed values, the task, a small fit."""

import dataclasses
import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from cases_twostep import twostep_table

import bayesrl as brl
from bayesrl import engine
from bayesrl.data import prepare

TS_MODELS = [brl.models.ts_par4, brl.models.ts_par6, brl.models.ts_par7]

# hBayesDM's ts_exampleData.txt layout: tab-separated, these nine headers (the four reward
# probabilities are not used); trial numbers start at 2 as in the file; rows out of order
HBAYESDM_TS = """subjID\ttrial\tlevel1_choice\tlevel2_choice\treward\tA1prob\tA2prob\tB1prob\tB2prob
1\t2\t1\t4\t1\t0.73\t0.44\t0.28\t0.42
1\t4\t2\t1\t1\t0.72\t0.38\t0.30\t0.39
1\t3\t1\t1\t1\t0.72\t0.38\t0.30\t0.39
2\t2\t2\t3\t0\t0.77\t0.40\t0.31\t0.39
2\t3\t2\t4\t1\t0.77\t0.40\t0.31\t0.39
"""


@pytest.mark.parametrize("factory", TS_MODELS)
def test_hbayesdm_ts_file_loads_unchanged(tmp_path, factory):
    path = tmp_path / "ts_exampleData.txt"
    path.write_text(HBAYESDM_TS)
    model = factory()
    data = prepare(path, model)
    assert data.column_map["level1_choice"] == "level1_choice" and data.column_map["outcome"] == "reward"
    assert data.choice_base == 1 and list(data.participants) == [1, 2]
    np.testing.assert_array_equal(data.arrays["choice"][0], [[0, 3], [0, 0], [1, 0]])  # (trial, stage), 0-based
    np.testing.assert_array_equal(data.arrays["choice"][1, :2], [[1, 2], [1, 3]])
    np.testing.assert_array_equal(data.arrays["valid"], [[True, True, True], [True, True, False]])
    params = model.make_params({p: jnp.full(2, spec.constrain(0.0)) for p, spec in model.params.items()})
    by_stage = np.asarray(engine.stage_log_likelihood(model, params, data.trials(model)))
    assert by_stage.shape == (2, 3, 2)
    np.testing.assert_allclose(by_stage[:, 0], np.log(0.5))  # all values 0, no previous choice: 1/2 at each stage
    np.testing.assert_allclose(np.asarray(engine.log_likelihood(model, params, data.trials(model))), by_stage.sum(-1))


def test_ts_par7_by_hand():
    """hBayesDM's order: Q1 toward Q2, Q2 toward r, Q1 toward r by lambda * a1 with the updated Q2."""
    model = brl.models.ts_par7()
    p = model.make_params({"a1": 0.5, "beta1": 2.0, "a2": 0.4, "beta2": 3.0, "pi": 0.7, "w": 0.25, "lambda": 0.6})
    trial = model.trial_type(choice=jnp.asarray([1, 2]), valid=True, block_start=False, outcome=1.0)
    s = model.update(model.init_state(4, p), p, trial)  # first stage 2, state B (option 3), reward 1
    q2 = 0.4  # 0 + 0.4 * (1 - 0)
    q1 = 0.0 + 0.5 * (0.0 - 0.0)
    q1 = q1 + 0.6 * 0.5 * (1.0 - q2)
    np.testing.assert_allclose(np.asarray(s.q1), [0.0, q1])
    np.testing.assert_allclose(np.asarray(s.q2), [[0.0, 0.0], [q2, 0.0]])
    assert int(s.last_choice) == 1
    stage1, stage2 = model.policy(s, p, trial)
    mb = np.array([0.3 * q2, 0.7 * q2])  # P(B | 1) = 0.3, P(B | 2) = 0.7; max over B's options is q2
    hybrid = 0.25 * mb + 0.75 * np.array([0.0, q1])
    np.testing.assert_allclose(np.asarray(stage1), 2.0 * hybrid + [0.0, 0.7])  # stay bonus on option 2
    np.testing.assert_allclose(np.asarray(stage2), 3.0 * np.array([0.0, 0.0, q2, 0.0]))


def test_second_stage_is_scored_within_the_reached_state():
    """P(level2 = 3) is normalised over options 3 and 4 only; options 1-2 get probability 0."""
    model = brl.models.ts_par4()
    p = model.make_params({"a": 0.5, "beta": 2.0, "pi": 1.0, "w": 0.5})
    s = model.init_state(4, p)._replace(q2=jnp.asarray([[5.0, 5.0], [1.0, 0.0]]))
    trial = model.trial_type(choice=jnp.asarray([0, 2]), valid=True, block_start=False, outcome=0.0)
    scored = np.asarray(engine.score_logits(model, model.policy(s, p, trial), trial))
    assert scored.shape == (2, 4)
    assert (scored[1, :2] == engine.NOT_OFFERED).all() and (scored[0, 2:] == engine.NOT_OFFERED).all()
    probs = np.asarray(jax.nn.softmax(scored, axis=-1))
    np.testing.assert_allclose(probs.sum(-1), 1.0)
    np.testing.assert_allclose(probs[1], [0, 0, 1 / (1 + np.exp(-2.0)), 1 / (1 + np.exp(2.0))])
    np.testing.assert_array_equal(probs[0, 2:], 0.0)  # padding of the two-option first stage


def test_scoring_after_the_trial_loop_equals_scoring_each_trial(rng):
    """engine.score_trials on the loop's raw policy output equals score_logits trial by trial."""
    model = brl.models.ts_par4()
    trials = prepare(twostep_table(rng), model).trials(model)
    one = jax.tree_util.tree_map(lambda x: x[0], trials)  # the first participant, shape (trial,)
    p = model.make_params({"a": 0.4, "beta": 3.0, "pi": 0.8, "w": 0.6})
    scored, _ = engine.scan_trials(model, p, one)
    state, rows = model.init_state(4, p), []
    for t in range(one.valid.shape[0]):
        trial = jax.tree_util.tree_map(lambda x, t=t: x[t], one)
        state, logits_ = engine.observe(model, p, state, trial)
        rows.append(engine.score_logits(model, logits_, trial))
        state = engine.learn(model, p, state, trial)
    assert scored.shape == (one.valid.shape[0], 2, 4)
    np.testing.assert_allclose(np.asarray(scored), np.asarray(jnp.stack(rows)), rtol=1e-6, atol=1e-6)


def test_partly_answered_trial_is_masked_whole(rng):
    model = brl.models.ts_par6()
    df = pd.read_csv(pd.io.common.StringIO(HBAYESDM_TS), sep="\t")
    df.loc[0, "level2_choice"] = np.nan  # participant 1, trial 2: first stage answered, second missed
    data = prepare(df, model)
    np.testing.assert_array_equal(data.arrays["valid"][0], [False, True, True])
    with pytest.raises(brl.DataError, match="level2_choice.*outside 1..4"):
        prepare(df.assign(level2_choice=df["level2_choice"].fillna(5)), model)
    with pytest.raises(brl.DataError, match="level1_choice"):
        prepare(df.drop(columns="level1_choice"), model)


def test_two_step_task_transitions_and_drifting_rewards():
    task = brl.tasks.two_step(400, seed=1)
    probs = np.stack([task.inputs[f"reward_prob_{j}"] for j in range(1, 5)], axis=1)
    assert probs.shape == (400, 4) and probs.min() >= 0.25 and probs.max() <= 0.75
    assert np.abs(np.diff(probs, axis=0)).max() < 0.15 and np.ptp(probs, axis=0).min() > 0.05  # drifts, slowly
    np.testing.assert_array_equal(brl.tasks.two_step(400, seed=1).inputs["reward_prob_1"], probs[:, 0])
    keys = jax.random.split(jax.random.PRNGKey(0), 4000)
    first = jnp.asarray([[0, 0], [1, 0]])
    states = np.asarray(jax.vmap(lambda k: jax.vmap(lambda c: task.offer(k, 0, 1, c))(first))(keys))
    common = np.mean(states == np.array([0, 1]), axis=0)
    np.testing.assert_allclose(common, 0.7, atol=0.03)  # 3 sd of a proportion over 4000 draws is 0.022
    with pytest.raises(ValueError, match="trans_prob"):
        brl.tasks.two_step(10, trans_prob=1.5)


@functools.cache
def _stay_table():
    """Simulated learners, model-free (w = 0) and model-based (w = 1), on one task: their stay probabilities."""
    model = brl.models.ts_par4()
    n = 150
    params = {"a": 0.5, "beta": 5.0, "pi": 0.0, "w": np.repeat([0.0, 1.0], n)}
    df = brl.simulate(model, params, task=brl.tasks.two_step(200, seed=5), seed=2)
    df["w"] = df["true_w"]
    df["stay"] = df.groupby("participant")["level1_choice"].shift(-1) == df["level1_choice"]
    df["common"] = (df["level2_choice"] > 2) == (df["level1_choice"] == 2)
    df = df[df.groupby("participant")["trial"].transform("max") > df["trial"]]
    return df.groupby(["w", "outcome", "common"])["stay"].mean()


def test_simulated_learners_show_the_model_based_signature():
    """Daw et al.'s stay probabilities: model-free learners repeat after a reward whatever the transition;
    model-based learners repeat after a rewarded common and an unrewarded rare transition."""
    stay = _stay_table()
    mf, mb = stay.loc[0.0], stay.loc[1.0]
    assert mf.loc[(1.0, True)] - mf.loc[(0.0, True)] > 0.1 and mf.loc[(1.0, False)] - mf.loc[(0.0, False)] > 0.1
    interaction_mb = (mb.loc[(1.0, True)] - mb.loc[(1.0, False)]) - (mb.loc[(0.0, True)] - mb.loc[(0.0, False)])
    interaction_mf = (mf.loc[(1.0, True)] - mf.loc[(1.0, False)]) - (mf.loc[(0.0, True)] - mf.loc[(0.0, False)])
    assert interaction_mb > 0.2 and abs(interaction_mf) < 0.1


def test_hbayesdm_links_and_group_priors():
    """ts_par*.stan: rates, w, lambda Phi_approx; beta* exp; pi 5 * Phi_approx; mu ~ N(0, 1), sigma ~ normal(0, 0.2)."""
    expected = {
        "ts_par4": ["a", "beta", "pi", "w"],
        "ts_par6": ["a1", "beta1", "a2", "beta2", "pi", "w"],
        "ts_par7": ["a1", "beta1", "a2", "beta2", "pi", "w", "lambda"],
    }
    for factory in TS_MODELS:
        model = factory()
        assert list(model.param_names) == expected[model.name]
        assert model.choice_columns == ("level1_choice", "level2_choice") and model.options == {"trans_prob": 0.7}
        for name, spec in model.params.items():
            assert (spec.prior.mu_scale, spec.prior.sigma_family, spec.prior.sigma_scale) == (1.0, "halfnormal", 0.2)
            if name.startswith("beta"):
                assert spec.link == "exp" and spec.lower == 0
            else:
                assert spec.link == "phi_approx" and (spec.lower, spec.upper) == (0, 5 if name == "pi" else 1)
    with pytest.raises(ValueError, match="trans_prob"):
        brl.models.ts_par4(trans_prob=1.2)


def test_stage_contract_errors():
    with pytest.raises(ValueError, match="groups"):
        brl.Stage("level2_choice", 4, groups=(0, 1))
    with pytest.raises(ValueError, match="n_options"):
        brl.Stage("level1_choice", 1)
    with pytest.raises(ValueError, match="one choice per trial"):
        brl.models.with_lapse(brl.models.ts_par4())
    model = brl.models.ts_par4()
    bad = brl.Model(
        name="bad",
        params=dict(model.params),
        init_state=model.init_state,
        policy=lambda s, p, t: model.policy(s, p, t)[0],  # one logit vector, not one per stage
        update=model.update,
        stages=model.stages,
    )
    trial = bad.trial_type(choice=jnp.asarray([0, 0]), valid=True, block_start=False, outcome=0.0)
    p = bad.make_params({k: 0.5 for k in bad.param_names})
    with pytest.raises(ValueError, match="one per stage"):
        engine.score_logits(bad, bad.policy(bad.init_state(4, p), p, trial), trial)
    with pytest.raises(ValueError, match="does not say which group"):
        brl.simulate(
            model, {k: 0.5 for k in model.param_names}, task=dataclasses.replace(brl.tasks.two_step(5), offer=None)
        )
    with pytest.raises(ValueError, match=r"makes 2 choices per trial with \(2, 4\) options"):
        brl.simulate(model, {k: 0.5 for k in model.param_names}, task=brl.tasks.bandit([0.5, 0.5], n_trials=5))


# --- a small fit: Fit.latents, posterior_predictive, log_likelihood by stage, compare ---------------


@functools.cache
def _fits():
    """``ts_par4`` fitted to 4 simulated participants x 40 trials, one trial masked (2 chains x 40 draws)."""
    task = brl.tasks.two_step(40, seed=0)
    df = brl.simulate(brl.models.ts_par4(), {"a": 0.5, "beta": 3.0, "pi": 0.5, "w": 0.5}, task=task, n_participants=4)
    df = df.drop(columns=[c for c in df.columns if c.startswith("true_")])
    df.loc[5, ["level1_choice", "level2_choice"]] = np.nan  # one masked trial
    settings = dict(num_warmup=40, num_samples=40, num_chains=2, seed=0, progress_bar=False, check=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return df, task, {"ts_par4": brl.fit(brl.models.ts_par4(), df, **settings)}


def test_simulated_table_reads_back():
    df, _, fits = _fits()
    assert {"level1_choice", "level2_choice", "outcome"} <= set(df.columns) and "choice" not in df.columns
    assert set(df["level1_choice"].dropna()) == {1, 2} and set(df["level2_choice"].dropna()) == {1, 2, 3, 4}
    data = fits["ts_par4"].data
    assert data.arrays["choice"].shape == (4, 40, 2) and data.arrays["valid"].sum() == 4 * 40 - 1


def test_fit_reports_both_stages():
    df, task, fits = _fits()
    fit = fits["ts_par4"]
    obs = brl._arviz.group(fit.idata, "observed_data")["choice"]
    assert obs.dims == ("participant", "trial", "stage") and list(obs["stage"].values) == [
        "level1_choice",
        "level2_choice",
    ]
    by_stage = fit.log_likelihood("trial", by_stage=True)
    np.testing.assert_allclose(by_stage.sum(-1), fit.log_likelihood("trial"), rtol=1e-9)
    assert by_stage.shape[-1] == 2 and np.all(by_stage < 0)
    lat = fit.latents()
    assert len(lat) == len(df) and lat["masked"].sum() == 1
    np.testing.assert_array_equal(lat["level2_choice"].dropna().to_numpy(), df["level2_choice"].dropna().to_numpy())
    real = ~lat["masked"]
    p1 = lat.loc[real, ["prob_level1_choice_1", "prob_level1_choice_2"]].sum(axis=1)
    p2 = lat.loc[real, [f"prob_level2_choice_{j}" for j in range(1, 5)]]
    np.testing.assert_allclose(p1, 1.0)
    np.testing.assert_allclose(p2.sum(axis=1), 1.0)
    unreached = np.where((lat.loc[real, "level2_choice"] > 2).to_numpy()[:, None], p2.iloc[:, :2], p2.iloc[:, 2:])
    np.testing.assert_array_equal(unreached, 0.0)  # the state not reached offers nothing
    chosen = np.take_along_axis(p2.to_numpy(), lat.loc[real, "level2_choice"].to_numpy(int)[:, None] - 1, axis=1)
    np.testing.assert_allclose(chosen[:, 0], lat.loc[real, "prob_chosen_level2_choice"])
    for name in ("prediction_error_1", "prediction_error_2", "value_mb_chosen", "common", "state"):
        assert lat.loc[real, name].notna().all() and lat.loc[~real, name].isna().all()
    np.testing.assert_array_equal(lat.loc[real, "state"], np.where(lat.loc[real, "level2_choice"] > 2, 2, 1))


def test_posterior_predictive_has_a_stage_axis():
    _, task, fits = _fits()
    fit = fits["ts_par4"]
    one = fit.posterior_predictive("one_step", num_draws=8)
    assert one["choice"].dims == ("chain", "draw", "participant", "trial", "stage")
    assert one["choice_prob"].dims[-2:] == ("stage", "option")
    valid = fit.data.arrays["valid"]
    drawn = one["choice"].values[:, :, valid]  # (chain, draw, valid trial, stage)
    assert set(np.unique(drawn[..., 0])) <= {0, 1} and set(np.unique(drawn[..., 1])) <= {0, 1, 2, 3}
    observed_state = fit.data.arrays["choice"][valid][:, 1] // 2
    np.testing.assert_array_equal(drawn[..., 1] // 2, np.broadcast_to(observed_state, drawn.shape[:-1]))
    gen = fit.posterior_predictive("generative", num_draws=4, task=task)
    assert gen["choice"].dims[-1] == "stage" and gen["outcome"].dims == ("chain", "draw", "participant", "trial")
    assert set(np.unique(gen["outcome"].values)) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="needs a task"):
        fit.posterior_predictive("generative", num_draws=4)
    with pytest.raises(ValueError, match="one choice per trial"):
        brl.plots.plot_learning_curve(fit)


def test_compare_and_save_two_step_fits(tmp_path):
    df, _, fits = _fits()
    fit = fits["ts_par4"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pareto k of a 40-draw fit
        table = brl.compare({"a": fit, "b": fit}, refit="never", progress_bar=False)
    assert set(table.index) == {"a", "b"} and np.isfinite(table["elpd"]).all()
    np.testing.assert_allclose(table["elpd_diff"], 0.0, atol=1e-12)
    choice = fit.data.arrays["choice"].copy()
    choice[0, 3, 1] ^= 1  # another second-stage option in the same state
    other = brl.Fit(
        fit.idata, fit.model, dataclasses.replace(fit.data, arrays={**fit.data.arrays, "choice": choice}), fit.metadata
    )
    with pytest.raises(ValueError, match="choices differ"):
        brl.compare({"a": fit, "other": other}, refit="never", progress_bar=False)
    fits["ts_par4"].save(tmp_path / "ts.nc")
    loaded = brl.load_fit(tmp_path / "ts.nc")
    np.testing.assert_array_equal(loaded.data.arrays["choice"], fits["ts_par4"].data.arrays["choice"])
    np.testing.assert_allclose(
        loaded.latents()["prob_chosen_level1_choice"], fits["ts_par4"].latents()["prob_chosen_level1_choice"]
    )


def test_replaying_a_staged_schedule_keeps_each_offered_group(rng):
    """A custom staged model without feedback columns: replay draws stage 2 within the observed state."""
    from typing import NamedTuple

    from bayesrl.simulate import replay_batch

    class Counts(NamedTuple):
        n1: jnp.ndarray  # (2,)
        n2: jnp.ndarray  # (4,)

    model = brl.Model(
        name="habit_two_stage",
        params={"beta": brl.positive(upper=5)},
        init_state=lambda n, p: Counts(jnp.zeros(2), jnp.zeros(4)),
        policy=lambda s, p, t: (p.beta * s.n1, p.beta * s.n2 + s.n1[t.choice[0]]),  # stage 2 reads stage 1
        update=lambda s, p, t: Counts(s.n1.at[t.choice[0]].add(0.1), s.n2.at[t.choice[1]].add(0.1)),
        stages=brl.models.ts_par4().stages,
        columns=(),
    )
    df = pd.read_csv(pd.io.common.StringIO(HBAYESDM_TS), sep="\t")
    data = prepare(df, model)
    params = model.make_params({"beta": jnp.full(2, 1.0)})
    sim, logits = replay_batch(model, params, data.trials(model), jax.random.PRNGKey(0))
    valid = data.arrays["valid"]
    np.testing.assert_array_equal(np.asarray(sim.choice)[valid][:, 1] // 2, data.arrays["choice"][valid][:, 1] // 2)
    np.testing.assert_allclose(np.asarray(engine.logits(model, params, sim)), np.asarray(logits), rtol=1e-12)
