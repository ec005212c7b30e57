"""Recovery of group differences, a covariate slope and a condition effect (statistical tier: ``pytest -m slow``).

Simulated with ``rescorla_wagner`` (80/20 bandit reversing every 30 trials, outcomes 1 / -1), 40
participants, 2 chains x (250 warm-up + 250 draws), seeds fixed.

- Between participants (120 trials each): ``alpha``'s unconstrained location is
  ``-0.3 + 0.8 * patient + 0.4 * age_z`` (``age_z`` the standardised age) and ``beta``'s
  ``0.3`` in both groups. The 90% HDI of the ``alpha`` contrast must exclude 0 and contain the
  true natural-scale difference; the ``beta`` contrast (no true difference) must contain 0; the
  age slope's 90% HDI must contain 0.4 and exclude 0.
- Within participants (two sessions of 50 trials, values reset between them): ``alpha`` is
  ``-0.5`` (unconstrained) under ``punish`` and ``-0.5 + 0.9`` under ``reward``; the offset's
  90% HDI must contain 0.9 and exclude 0.
"""

import functools
import warnings

import numpy as np
import pandas as pd
import pytest

import bayesrl as brl

pytestmark = pytest.mark.slow

MODEL = brl.models.rescorla_wagner()
SETTINGS = dict(num_warmup=250, num_samples=250, num_chains=2, seed=3, progress_bar=False, check=False)
N = 40
ALPHA = {"Intercept": -0.3, "group[T.patient]": 0.8, "age": 0.4}
BETA_LOC, SIGMA = 0.3, 0.3
COND_BASE, COND_EFFECT = -0.5, 0.9


def task(n_trials):
    schedule = brl.tasks.reversal_schedule([0.8, 0.2], n_trials=n_trials, every=30)
    return brl.tasks.bandit(schedule, reward=1.0, no_reward=-1.0)


def constrain(name, x):
    return np.asarray(MODEL.params[name].constrain(x))


@functools.cache
def between_fit():
    rng = np.random.default_rng(2024)
    patient = np.arange(N) % 2
    age = rng.uniform(20, 60, N)
    age_z = (age - age.mean()) / age.std(ddof=1)
    loc = ALPHA["Intercept"] + ALPHA["group[T.patient]"] * patient + ALPHA["age"] * age_z
    params = pd.DataFrame(
        {
            "alpha": constrain("alpha", loc + SIGMA * rng.normal(size=N)),
            "beta": constrain("beta", BETA_LOC + SIGMA * rng.normal(size=N)),
        },
        index=pd.RangeIndex(1, N + 1, name="participant"),
    )
    df = brl.simulate(MODEL, params, task=task(120), seed=5)
    covariates = pd.DataFrame(
        {"participant": params.index, "group": np.where(patient == 1, "patient", "control"), "age": age}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return brl.fit(
            MODEL,
            df,
            formula={"alpha": "1 + group + age", "beta": "1 + group"},
            participant_data=covariates,
            **SETTINGS,
        )


@functools.cache
def within_fit():
    rng = np.random.default_rng(77)
    base = COND_BASE + SIGMA * rng.normal(size=N)
    offset = COND_EFFECT + 0.2 * rng.normal(size=N)
    beta = constrain("beta", BETA_LOC + SIGMA * rng.normal(size=N))
    sessions = []
    for k, (condition, raw) in enumerate((("punish", base), ("reward", base + offset))):
        params = pd.DataFrame(
            {"alpha": constrain("alpha", raw), "beta": beta}, index=pd.RangeIndex(1, N + 1, name="participant")
        )
        sim = brl.simulate(MODEL, params, task=task(50), seed=11 + k)
        sessions.append(sim.assign(trial=sim["trial"] + 50 * k, block=k + 1, condition=condition))
    df = pd.concat(sessions, ignore_index=True).sample(frac=1.0, random_state=0)  # row order must not matter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return brl.fit(MODEL, df, conditions={"alpha": "condition"}, **SETTINGS)


def test_group_difference_recovered():
    fit = between_fit()
    res = fit.contrast("alpha", "group", "patient", "control", hdi_prob=0.9)
    truth = constrain("alpha", ALPHA["Intercept"] + ALPHA["group[T.patient]"]) - constrain("alpha", ALPHA["Intercept"])
    lo, hi = res.hdi
    print(f"alpha patient - control: {res.mean:.3f}, 90% HDI [{lo:.3f}, {hi:.3f}], truth {truth:.3f}")
    assert lo > 0 and lo <= truth <= hi, (lo, truth, hi)
    assert res.prob_positive > 0.95


def test_no_difference_contains_zero():
    res = between_fit().contrast("beta", "group", "patient", "control", hdi_prob=0.9)
    lo, hi = res.hdi
    print(f"beta patient - control: {res.mean:.3f}, 90% HDI [{lo:.3f}, {hi:.3f}], truth 0")
    assert lo <= 0 <= hi, (lo, hi)


def test_covariate_slope_recovered():
    row = between_fit().coefficients("alpha", hdi_prob=0.9).loc[("alpha", "age")]
    print(f"age slope: {row['mean']:.3f}, 90% HDI [{row['hdi_lower']:.3f}, {row['hdi_upper']:.3f}], truth 0.4")
    assert 0 < row["hdi_lower"] <= ALPHA["age"] <= row["hdi_upper"], row


def test_condition_effect_recovered():
    fit = within_fit()
    row = fit.coefficients("alpha", hdi_prob=0.9).loc[("alpha", "condition[reward]")]
    print(f"condition offset: {row['mean']:.3f}, 90% HDI [{row['hdi_lower']:.3f}, {row['hdi_upper']:.3f}], truth 0.9")
    assert 0 < row["hdi_lower"] <= COND_EFFECT <= row["hdi_upper"], row
    res = fit.contrast("alpha", "condition", "reward", "punish", hdi_prob=0.9)
    assert res.hdi[0] > 0
