"""SVI and MAP/Laplace agree with NUTS on the example data; resumed NUTS equals a longer run (slow tier).

The example data (20 participants x 100 trials, ``rescorla_wagner``): NUTS 4 chains x (300
warm-up + 500 draws) is the reference. Tolerances on the group locations (``alpha_mu``,
``beta_mu`` and the natural-scale ``alpha_group``, ``beta_group``), in NUTS posterior sds:
MAP/Laplace and low-rank SVI 0.35, mean-field SVI 0.6 (measured: see docs/inference.md).
"""

import warnings

import numpy as np
import pytest
from small_fits import FIT_SETTINGS, small_fit, table

import bayesrl as brl

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("agreement_fits")]  # one worker builds the shared fits

LOCATIONS = ["alpha_mu", "beta_mu", "alpha_group", "beta_group"]
TOLERANCE = {"map": 0.35, "svi-lowrank": 0.35, "svi-normal": 0.6}


@pytest.fixture(scope="module")
def fits():
    df = brl.datasets.load("bandit2arm")
    model = brl.models.rescorla_wagner()
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # approximations' Pareto k warnings are checked below
        out["nuts"] = brl.fit(model, df, num_warmup=300, num_samples=500, num_chains=4, seed=1, progress_bar=False)
        out["map"] = brl.fit(model, df, method="map", seed=1, progress_bar=False)
        for guide in ("normal", "lowrank"):
            out[f"svi-{guide}"] = brl.fit(model, df, method="svi", guide=guide, seed=1, progress_bar=False)
    return out


def test_group_locations_agree_with_nuts(fits):
    ref = fits["nuts"].summary()
    assert fits["nuts"].diagnostics(warn=False).max_rhat < 1.02
    rows = []
    for name, tol in TOLERANCE.items():
        table_ = fits[name].summary()
        diff = (table_["mean"] - ref["mean"]).abs() / ref["sd"]
        ratio = table_["sd"] / ref["sd"]
        rows.append((name, diff, ratio, fits[name].diagnostics(warn=False).approximation["pareto_k"]))
        assert (diff[LOCATIONS] <= tol).all(), (name, diff[LOCATIONS].round(3).to_dict())
    for name, diff, ratio, k in rows:
        print(f"\n{name}: |mean - NUTS mean| / NUTS sd {diff.round(2).to_dict()}")
        print(f"{name}: sd / NUTS sd {ratio.round(2).to_dict()}; Pareto k {k:.2f}")
    # control: the tolerance rejects a wrong answer, the prior's location (mu = 0)
    assert (ref.loc[["alpha_mu", "beta_mu"], "mean"].abs() / ref.loc[["alpha_mu", "beta_mu"], "sd"] > 1.0).all()


def test_approximations_report_convergence(fits):
    for guide in ("normal", "lowrank"):
        assert fits[f"svi-{guide}"].metadata["sampler"]["elbo_converged"], guide
    info = fits["map"].metadata["sampler"]
    assert info["converged"] and info["hessian_positive_definite"]
    # the Laplace and low-rank uncertainty of the group locations is the right size; mean-field understates it
    ref = fits["nuts"].summary()
    for name in ("map", "svi-lowrank"):
        ratio = fits[name].summary().loc[["alpha_mu", "beta_mu"], "sd"] / ref.loc[["alpha_mu", "beta_mu"], "sd"]
        assert ((ratio > 0.6) & (ratio < 1.6)).all(), (name, ratio.to_dict())


def test_resumed_draws_equal_a_longer_run_and_match_another_seed():
    base = small_fit()  # 2 chains x (100 warm-up + 100 draws), seed 0
    resumed = base.resume(400, progress_bar=False, check=False)
    longer = brl.fit(brl.models.rescorla_wagner(), table(), **{**FIT_SETTINGS, "num_samples": 500})
    for v in ("alpha_mu", "beta_sigma", "alpha"):
        np.testing.assert_allclose(resumed.posterior[v].values, longer.posterior[v].values, rtol=1e-8, atol=1e-10)
    other = brl.fit(brl.models.rescorla_wagner(), table(), **{**FIT_SETTINGS, "num_samples": 500, "seed": 1})
    a, b = resumed.summary(), other.summary()
    z = (a["mean"] - b["mean"]).abs() / np.sqrt(a["mcse_mean"] ** 2 + b["mcse_mean"] ** 2)
    print(f"\nresumed vs another seed, |difference| / combined MCSE: {z.round(2).to_dict()}")
    assert (z < 4).all(), z.to_dict()
