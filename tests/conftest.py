import os

os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import bayesrl as brl  # noqa: E402,F401  (sets up host devices before JAX starts)

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def bandit_df():
    """The shipped example: 20 participants x 100 trials."""
    return brl.datasets.load("bandit2arm")
