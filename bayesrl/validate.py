"""Parameter recovery: simulate from known values, fit, and compare.

The same shared pieces as everywhere: :func:`bayesrl.simulate` (the model's own step
functions against a task) and :func:`bayesrl.fit`.
"""

from __future__ import annotations

import time
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from .api import fit as fit_model
from .api import simulate


class Recovery(NamedTuple):
    """Result of :func:`parameter_recovery`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per parameter: ``r`` (correlation of posterior means with the true values
        over participants), ``r_shuffled`` (the same against the true values shuffled over
        participants, mean of 20 shuffles: a control near 0), ``coverage`` (fraction of true
        values inside the participant's HDI), ``rmse``.
    truth, estimates : pandas.DataFrame
        True values and :meth:`bayesrl.Fit.participants`, indexed by participant.
    fit : bayesrl.Fit
    seconds : float
        Wall time of the fit.
    """

    table: pd.DataFrame
    truth: pd.DataFrame
    estimates: pd.DataFrame
    fit: object
    seconds: float


def shuffled_correlation(estimate, truth, n_shuffles: int = 20, seed: int = 0) -> float:
    """Mean correlation of ``estimate`` with ``truth`` permuted at random (a control near 0).

    Parameters
    ----------
    estimate, truth : array_like, shape (participant,)
    n_shuffles : int, default 20
    seed : int, default 0

    Returns
    -------
    float
    """
    rng = np.random.default_rng(seed)
    truth = np.asarray(truth, dtype=float)
    return float(np.mean([np.corrcoef(estimate, rng.permutation(truth))[0, 1] for _ in range(n_shuffles)]))


def parameter_recovery(
    model,
    task,
    group: dict,
    n_participants: int,
    *,
    simulation_seed: int = 0,
    hdi_prob: float = 0.9,
    quiet: bool = True,
    **fit_kwargs,
) -> Recovery:
    """Simulate participants from group-level values, fit them, and compare with the truth.

    Parameters
    ----------
    model : bayesrl.Model
    task : bayesrl.tasks.Task
    group : dict
        Group-level values on the unconstrained scale, ``{"alpha_mu": .., "alpha_sigma": .., ...}``
        (as :func:`bayesrl.simulate` takes them).
    n_participants : int
    simulation_seed : int, default 0
        Seed of the simulation (the fit's own ``seed`` goes in ``fit_kwargs``, default 0).
    hdi_prob : float, default 0.9
        Interval used for ``coverage``.
    quiet : bool, default True
        Silence the fit's diagnostic warnings (short recovery runs often warn about ESS).
    **fit_kwargs
        Passed to :func:`bayesrl.fit` (``num_warmup``, ``num_samples``, ``num_chains``...).

    Returns
    -------
    Recovery
    """
    sim = simulate(model, group=group, n_participants=n_participants, task=task, seed=simulation_seed)
    fit_kwargs.setdefault("progress_bar", False)
    start = time.perf_counter()
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore", UserWarning)
        result = fit_model(model, sim, **fit_kwargs)
    seconds = time.perf_counter() - start
    names = list(model.param_names)
    truth = sim.groupby("participant", sort=False)[[f"true_{p}" for p in names]].first()
    truth.columns = names
    est = result.participants(hdi_prob=hdi_prob).loc[truth.index]
    rows = []
    for p in names:
        mean, true = est[f"{p}_mean"].to_numpy(), truth[p].to_numpy()
        inside = (est[f"{p}_hdi_lower"].to_numpy() <= true) & (true <= est[f"{p}_hdi_upper"].to_numpy())
        rows.append(
            {
                "parameter": p,
                "r": float(np.corrcoef(mean, true)[0, 1]),
                "r_shuffled": shuffled_correlation(mean, true),
                "coverage": float(inside.mean()),
                "rmse": float(np.sqrt(np.mean((mean - true) ** 2))),
            }
        )
    return Recovery(pd.DataFrame(rows).set_index("parameter"), truth, est, result, seconds)
