import os

os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import bayesrl as brl  # noqa: E402,F401  (sets up host devices before JAX starts)

# The fast tier checks likelihoods against NumPy loops to 1e-6: float64. The statistical tier
# (`make test-slow`) runs in the package's default float32, the precision users fit in
# (BAYESRL_TEST_PRECISION=float32); see docs/testing.md.
PRECISION = os.environ.get("BAYESRL_TEST_PRECISION", "float64")
if PRECISION not in ("float32", "float64"):
    raise ValueError(f"BAYESRL_TEST_PRECISION must be float32 or float64, got {PRECISION!r}")
jax.config.update("jax_enable_x64", PRECISION == "float64")
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def bandit_df():
    """The shipped example: 20 participants x 100 trials."""
    return brl.datasets.load("bandit2arm")
