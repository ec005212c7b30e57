"""One small fit shared by the latents and posterior predictive tests (fitted once per test process).

Five participants of the shipped example, 40 trials each with two blocks, string ids, three
masked trials (one at a block start), one participant cut short (ragged), rows shuffled
under a non-default index.
"""

import functools
import warnings

import numpy as np

import bayesrl as brl

FIT_SETTINGS = dict(num_warmup=100, num_samples=100, num_chains=2, seed=0, progress_bar=False, check=False)
#: The task the example data was simulated with.
TASK = dict(probabilities=[0.7, 0.3], reward=1.0, no_reward=-1.0)


@functools.cache
def _table():
    df = brl.datasets.load("bandit2arm")
    df = df[(df["participant"] <= 5) & (df["trial"] <= 40)].copy()
    df = df[~((df["participant"] == 5) & (df["trial"] > 32))]  # ragged: 32 trials
    df["participant"] = df["participant"].map(lambda i: f"s{i}")
    df["block"] = np.where(df["trial"] <= 20, 1, 2)
    masked = ((df["participant"] == "s1") & (df["trial"] == 6)) | ((df["participant"] == "s3") & (df["trial"] == 21))
    masked |= (df["participant"] == "s4") & (df["trial"] == 40)
    df.loc[masked, ["choice", "outcome"]] = np.nan
    df = df.drop(columns=["true_alpha", "true_beta"]).sample(frac=1.0, random_state=7)
    df.index = 1000 + np.arange(len(df))[::-1]  # labels that are neither positions nor sorted
    return df


def table():
    """The shuffled, ragged, masked table (a fresh copy)."""
    return _table().copy()


@functools.cache
def small_fit():
    """``rescorla_wagner`` fitted to :func:`table` (2 chains x 100 draws)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return brl.fit(brl.models.rescorla_wagner(), _table(), **FIT_SETTINGS)
