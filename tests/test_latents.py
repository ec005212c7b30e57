"""fit.latents(): trial-wise regressors against an independent NumPy loop, aligned to the input rows."""

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from small_fits import small_fit, table

import bayesrl as brl
from bayesrl import data as data_mod
from bayesrl import engine, predictive


@pytest.fixture(scope="module")
def fit():
    return small_fit()


@pytest.fixture(scope="module")
def df():
    return table()


def rw_oracle(df, alpha, beta):
    """Rescorla-Wagner latents row by row of the user's table (indexed by its labels).

    ``alpha``, ``beta``: dicts participant -> value. Plain NumPy, written from the model's
    equations: values reset at a new block, a masked trial learns nothing.
    """
    out = {}
    for pid, rows in df.sort_values("trial").groupby("participant", sort=False):
        q = np.zeros(2)
        block = None
        for label, row in rows.iterrows():
            if block is not None and row["block"] != block:
                q = np.zeros(2)
            block = row["block"]
            rec = {"q_1": q[0], "q_2": q[1]}
            if np.isnan(row["choice"]):
                rec.update(
                    prob_1=np.nan, prob_2=np.nan, prob_chosen=np.nan, chosen_value=np.nan, prediction_error=np.nan
                )
            else:
                z = beta[pid] * q
                p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
                c = int(row["choice"]) - 1
                pe = row["outcome"] - q[c]
                rec.update(prob_1=p[0], prob_2=p[1], prob_chosen=p[c], chosen_value=q[c], prediction_error=pe)
                q = q.copy()
                q[c] += alpha[pid] * pe
            out[label] = rec
    return pd.DataFrame.from_dict(out, orient="index").loc[df.index]


LATENT_COLUMNS = ["q_1", "q_2", "prob_1", "prob_2", "prob_chosen", "chosen_value", "prediction_error"]


def test_latents_at_the_posterior_mean_match_a_numpy_loop(fit, df):
    lat = fit.latents()
    assert list(lat.columns) == ["participant", "trial", "block", "row", "masked", "choice", *LATENT_COLUMNS]
    people = fit.participants()
    expected = rw_oracle(df, people["alpha_mean"].to_dict(), people["beta_mean"].to_dict())
    got = lat.set_axis(df.index)  # row i of the frame is row i of the input
    np.testing.assert_allclose(got[LATENT_COLUMNS].to_numpy(float), expected.to_numpy(float), rtol=1e-9, atol=1e-12)
    # the posterior mean is taken on the natural scale
    np.testing.assert_allclose(
        people["alpha_mean"].to_numpy(), fit.posterior["alpha"].mean(("chain", "draw")).values, rtol=1e-12
    )


def test_rows_align_to_a_shuffled_input_table(fit, df):
    lat = fit.latents()
    assert len(lat) == len(df) and list(lat.index) == list(range(len(df)))
    np.testing.assert_array_equal(lat["row"], np.arange(len(df)))
    assert list(lat["participant"]) == list(df["participant"])
    np.testing.assert_array_equal(lat["masked"], df["choice"].isna())
    assert int(lat["masked"].sum()) == 3
    assert lat["choice"].dtype == "Int64"
    assert lat["choice"].isna().tolist() == df["choice"].isna().tolist()
    np.testing.assert_array_equal(lat["choice"].dropna().to_numpy(int), df["choice"].dropna().to_numpy(int))
    # trial: position among the participant's trials (0-based); block: blocks started before
    np.testing.assert_array_equal(lat["trial"], df["trial"].to_numpy() - 1)
    np.testing.assert_array_equal(lat["block"], df["block"].to_numpy() - 1)
    masked = lat[lat["masked"]]
    assert masked[["prob_1", "prob_chosen", "prediction_error"]].isna().all().all()
    assert masked[["q_1", "q_2"]].notna().all().all()  # the state is reported on masked trials
    # the masked trial at a block start (s3, trial 21) sees the reset values
    s3 = lat[(lat["participant"] == "s3") & (lat["trial"] == 20)]
    assert bool(s3["masked"].iloc[0]) and (s3[["q_1", "q_2"]].to_numpy() == 0).all()


def test_latents_over_draws_average_the_per_draw_latents(fit, df):
    lat = fit.latents("draws", num_draws=4, seed=3)
    keep = predictive.draw_subset(2, 100, 4, seed=3)
    assert len(keep) == 2
    post = fit.posterior
    ids = list(post["participant"].values)
    runs = []
    for c in range(2):
        for d in keep:
            alpha = dict(zip(ids, post["alpha"].values[c, d], strict=True))
            beta = dict(zip(ids, post["beta"].values[c, d], strict=True))
            runs.append(rw_oracle(df, alpha, beta).to_numpy(float))
    expected = np.mean(runs, axis=0)
    np.testing.assert_allclose(lat[LATENT_COLUMNS].to_numpy(float), expected, rtol=1e-9, atol=1e-12)
    # and they differ from the latents at the posterior mean
    assert not np.allclose(lat["prob_chosen"].dropna(), fit.latents()["prob_chosen"].dropna())
    pd.testing.assert_frame_equal(fit.latents("draws", num_draws=4, seed=3), lat)


def test_latents_reject_bad_arguments(fit):
    with pytest.raises(ValueError, match="at must be 'mean'"):
        fit.latents("median")
    with pytest.raises(ValueError, match="num_draws"):
        fit.latents("draws", num_draws=0)
    bare = brl.Fit(fit.idata, None, fit.data, fit.metadata)
    with pytest.raises(ValueError, match="model="):
        bare.latents()


# --- the contract: Model.latents on library models, without fitting ---------------------------


def _mid_params(model, n_p):
    return model.make_params({k: jnp.full(n_p, spec.constrain(0.3)) for k, spec in model.params.items()})


def _run(model, frame):
    dataset = data_mod.prepare(frame, model)
    states, logits, extra = engine.latents(model, _mid_params(model, dataset.n_participants), dataset.trials(model))
    return dataset, states, np.asarray(logits), {k: np.asarray(v) for k, v in extra.items()}


def _bandit_table(rng, columns, n_options=2, n_p=3, n_t=25):
    rows = []
    for i in range(n_p):
        for t in range(n_t - 3 * i):
            row = {"participant": i, "trial": t, "choice": int(rng.integers(0, n_options)) + 1}
            row.update({c: f(rng) for c, f in columns.items()})
            rows.append(row)
    frame = pd.DataFrame(rows)
    frame.loc[[4, 30], "choice"] = np.nan
    return frame


def test_pearce_hall_reports_associability_and_a_consistent_learning_rate(rng):
    model = brl.models.rescorla_wagner_pearce_hall()
    frame = _bandit_table(rng, {"outcome": lambda r: float(r.choice([0.0, 1.0]))})
    dataset, states, _, extra = _run(model, frame)
    assert set(extra) == {"chosen_value", "prediction_error", "associability", "learning_rate"}
    valid, c = dataset.arrays["valid"], dataset.arrays["choice"]
    q = np.asarray(states.q)
    assoc = np.asarray(states.associability)
    pick = lambda a: np.take_along_axis(a, c[..., None], -1)[..., 0]  # noqa: E731
    np.testing.assert_allclose(extra["associability"][valid], pick(assoc)[valid])
    # the chosen value moves by learning_rate * prediction_error to the next trial
    step = np.take_along_axis(q[:, 1:], c[:, :-1, None], -1)[..., 0] - pick(q)[:, :-1]
    both = valid[:, :-1] & (dataset.row_index[:, 1:] >= 0)
    np.testing.assert_allclose(step[both], (extra["learning_rate"] * extra["prediction_error"])[:, :-1][both])
    assert np.isnan(extra["learning_rate"][~valid]).all()


def test_kalman_filter_reports_gain_mean_and_variance(rng):
    model = brl.models.bandit4arm2_kalman_filter()
    frame = _bandit_table(rng, {"outcome": lambda r: float(r.integers(1, 100))}, n_options=4)
    dataset, states, _, extra = _run(model, frame)
    valid, c = dataset.arrays["valid"], dataset.arrays["choice"]
    var = np.take_along_axis(np.asarray(states.var), c[..., None], -1)[..., 0]
    mean = np.take_along_axis(np.asarray(states.mean), c[..., None], -1)[..., 0]
    np.testing.assert_allclose(extra["kalman_gain"][valid], (var / (var + 16.0))[valid])
    np.testing.assert_allclose(extra["chosen_variance"][valid], var[valid])
    np.testing.assert_allclose(extra["prediction_error"][valid], (dataset.arrays["outcome"] - mean)[valid])


def test_variants_and_renamed_models_keep_the_base_latents(rng):
    frame = _bandit_table(rng, {"outcome": lambda r: float(r.choice([0.0, 1.0]))})
    base = brl.models.rescorla_wagner_pearce_hall()
    _, _, _, expected = _run(base, frame)
    renamed = base.renamed({"kappa": "salience"})
    for model in (brl.models.with_lapse(base), renamed, brl.models.with_perseveration(renamed)):
        _, _, _, extra = _run(model, frame)
        assert set(extra) == set(expected), model.name
        # same learning parameters (0.3 everywhere), so the same trajectory of latents
        np.testing.assert_allclose(extra["associability"], expected["associability"], err_msg=model.name)
    # the default (q and outcome) is found through a wrapper's ``base``
    _, states, _, extra = _run(brl.models.with_perseveration(brl.models.rescorla_wagner()), frame)
    assert set(extra) == {"chosen_value", "prediction_error"}
    cols = predictive._state_columns(states, 2, 1)
    assert {"q_1", "q_2", "trace_1", "trace_2"} == set(cols)


def test_gain_loss_pst_and_fictitious_models_define_their_latents(rng):
    cases = [
        (brl.models.bandit4arm_4par(), {"gain": lambda r: float(r.integers(0, 2)), "loss": lambda r: -1.0}, 4),
        (brl.models.banditNarm_delta(), {"gain": lambda r: 1.0, "loss": lambda r: float(r.integers(0, 2))}, 4),
        (brl.models.prl_fictitious(), {"outcome": lambda r: float(r.choice([-1.0, 1.0]))}, 2),
        (brl.models.prl_ewa(), {"outcome": lambda r: float(r.choice([-1.0, 1.0]))}, 2),
    ]
    names = {
        "bandit4arm_4par": {"chosen_value", "prediction_error_reward", "prediction_error_punishment"},
        "banditNarm_delta": {"chosen_value", "prediction_error"},
        "prl_fictitious": {"chosen_value", "prediction_error", "prediction_error_unchosen"},
        "prl_ewa": {"chosen_value", "chosen_experience"},
    }
    for model, columns, k in cases:
        dataset, _, _, extra = _run(model, _bandit_table(rng, columns, n_options=k))
        assert set(extra) == names[model.name], model.name
        valid = dataset.arrays["valid"]
        assert all(np.isfinite(v[valid]).all() and np.isnan(v[~valid]).all() for v in extra.values()), model.name
    # PST: values of six stimuli (numbered from 1, not options), the chosen stimulus's value
    pst = brl.models.pst_Q()
    frame = _bandit_table(rng, {"type": lambda r: float(r.choice([12, 34, 56])), "reward": lambda r: 1.0})
    frame["choice"] = frame["choice"] - 1
    dataset, states, _, extra = _run(pst, frame)
    assert set(predictive._state_columns(states, 2, 0)) == {f"q_{i}" for i in range(1, 7)}
    assert set(extra) == {"chosen_value", "prediction_error"}


def test_a_model_latent_must_be_a_scalar():
    class Q(NamedTuple):
        q: jnp.ndarray

    model = brl.Model(
        name="vector_latent",
        params={"alpha": brl.unit(), "beta": brl.positive(upper=10)},
        init_state=lambda n, p: Q(jnp.zeros(n)),
        policy=lambda s, p, t: p.beta * s.q,
        update=lambda s, p, t: Q(s.q.at[t.choice].add(p.alpha * (t.outcome - s.q[t.choice]))),
        latents=lambda s, p, t, n: {"all_errors": t.outcome - s.q},
    )
    frame = pd.DataFrame({"participant": [1, 1, 1], "choice": [1, 2, 1], "outcome": [1.0, 0.0, 1.0]})
    with pytest.raises(ValueError, match="'all_errors'.*scalars"):
        _run(model, frame)
    with pytest.raises(ValueError, match="inputs"):
        brl.Model(
            name="bad",
            params={"beta": brl.positive()},
            init_state=model.init_state,
            policy=model.policy,
            update=model.update,
            inputs=("cue",),
        )
