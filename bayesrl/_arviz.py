"""The few places where ArviZ 0.2x (InferenceData) and 1.x (DataTree) differ."""

from __future__ import annotations

import contextlib
import logging
import re
import warnings

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

ARVIZ_1 = int(az.__version__.split(".")[0]) >= 1


def from_dict(groups: dict, coords: dict, dims: dict):
    """Build an ArviZ object from ``{group: {var: array}}``."""
    if ARVIZ_1:
        return az.from_dict(groups, coords=coords, dims=dims)
    return az.from_dict(**groups, coords=coords, dims=dims)


def group(data, name: str) -> xr.Dataset:
    """One group as an ``xarray.Dataset``."""
    g = data[name]
    return g.to_dataset() if hasattr(g, "to_dataset") else g


def groups(data) -> list[str]:
    """Names of the groups present."""
    if ARVIZ_1:
        return [k for k in data.children]
    return list(data.groups())


def set_group(data, name: str, dataset: xr.Dataset) -> None:
    """Add the group ``name`` to an ArviZ object, replacing it when present (in place)."""
    if ARVIZ_1:
        data[name] = xr.DataTree(dataset)
    elif name in data.groups():
        setattr(data, name, dataset)
    else:
        data.add_groups({name: dataset})


def to_netcdf(data, path: str) -> None:
    data.to_netcdf(path)


def from_netcdf(path: str):
    """Read a saved ArviZ object fully into memory (the file is closed afterwards)."""
    data = az.from_netcdf(path)
    if ARVIZ_1:
        data = data.load()
        data.close()
    else:
        for g in data.groups():
            setattr(data, g, getattr(data, g).load())
    return data


@contextlib.contextmanager
def quiet_logs():
    """Silence ArviZ's logged warnings (e.g. "Shape validation failed" for one chain)."""
    log = getattr(az, "_log", None) or logging.getLogger("arviz")  # ArviZ 0.2x's logger is not registered
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def summary(data, var_names, hdi_prob: float, quiet: bool = False) -> pd.DataFrame:
    """ArviZ's summary with the same column names on both versions.

    Columns: ``mean, sd, hdi_<lo>%, hdi_<hi>%, mcse_mean, mcse_sd, ess_bulk, ess_tail, r_hat``.
    ``quiet`` silences ArviZ's logged warnings (one chain of independent draws).
    """
    if quiet:
        with quiet_logs(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return summary(data, var_names, hdi_prob)
    if ARVIZ_1:
        table = az.summary(data, var_names=var_names, ci_prob=hdi_prob, ci_kind="hdi", round_to="none")
        lo, hi = _hdi_labels(hdi_prob)
        table = table.rename(columns=lambda c: re.sub(r"^hdi\d+_lb$", lo, re.sub(r"^hdi\d+_ub$", hi, c)))
    else:
        table = az.summary(data, var_names=var_names, hdi_prob=hdi_prob, round_to="none")
    cols = ["mean", "sd", *_hdi_labels(hdi_prob), "mcse_mean", "mcse_sd", "ess_bulk", "ess_tail", "r_hat"]
    return table[cols].astype(float)


def _hdi_labels(prob: float) -> tuple[str, str]:
    tail = (1 - prob) / 2 * 100
    fmt = lambda x: f"{x:g}"  # noqa: E731
    return f"hdi_{fmt(round(tail, 6))}%", f"hdi_{fmt(round(100 - tail, 6))}%"


def ess_rhat(data, var_names) -> tuple[dict, dict, dict]:
    """Min bulk ESS, min tail ESS and max R-hat of each variable."""
    post = group(data, "posterior")[var_names]
    bulk = az.ess(post, method="bulk")
    tail = az.ess(post, method="tail")
    rhat = az.rhat(post)
    bulk, tail, rhat = (group(x, "posterior") if not isinstance(x, xr.Dataset) else x for x in (bulk, tail, rhat))

    def pick(ds, f):
        out = {}
        for k in var_names:
            values = np.asarray(ds[k], dtype=float)
            out[k] = float(f(values)) if np.isfinite(values).any() else float("nan")  # e.g. R-hat of one chain
        return out

    return pick(bulk, np.nanmin), pick(tail, np.nanmin), pick(rhat, np.nanmax)


def loo(data, var_name: str = "choice", pointwise: bool = True):
    return az.loo(data, var_name=var_name, pointwise=pointwise)


def elpd_estimate(elpd_data) -> tuple[float, float]:
    """(elpd, se) from a LOO result of either ArviZ version."""
    if hasattr(elpd_data, "elpd"):
        return float(elpd_data.elpd), float(elpd_data.se)
    return float(elpd_data["elpd_loo"]), float(elpd_data["se"])


def pointwise_loo(data, var_name: str = "choice") -> tuple[np.ndarray, np.ndarray, float]:
    """PSIS-LOO of each unit, without ArviZ's high-k warning (callers report it themselves).

    Returns
    -------
    elpd_i : numpy.ndarray, shape (unit,)
    pareto_k : numpy.ndarray, shape (unit,)
    good_k : float
        ArviZ's threshold ``min(1 - 1 / log10(draws), 0.7)`` above which PSIS is unreliable.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
        warnings.filterwarnings("ignore", message="The point-wise LOO is the same")  # one unit
        res = az.loo(data, var_name=var_name, pointwise=True)
    elpd_i = res.elpd_i if ARVIZ_1 else res["loo_i"]
    return np.asarray(elpd_i, float).ravel(), np.asarray(res["pareto_k"], float).ravel(), float(res["good_k"])


def elpd_data(elpd_i, p: float, n_samples: int):
    """An ArviZ ELPD object (LOO kind) holding given pointwise values, for :func:`compare`.

    ``elpd`` is their sum and ``se`` ArviZ's ``sqrt(n * var(elpd_i))``.

    Parameters
    ----------
    elpd_i : array_like, shape (unit,)
    p : float
        Effective number of parameters.
    n_samples : int
        Posterior draws behind the estimate.
    """
    elpd_i = np.asarray(elpd_i, dtype=float).ravel()
    n = elpd_i.size
    pointwise = xr.DataArray(elpd_i, dims=["unit"])
    k = xr.DataArray(np.zeros(n), dims=["unit"])
    elpd, se = float(elpd_i.sum()), float(np.sqrt(n * elpd_i.var()))
    if ARVIZ_1:
        from arviz_stats.utils import ELPDDataLOO

        return ELPDDataLOO(
            elpd=elpd,
            se=se,
            p=float(p),
            n_samples=int(n_samples),
            n_data_points=n,
            scale="log",
            warning=False,
            good_k=0.7,
            elpd_i=pointwise,
            pareto_k=k,
        )
    from arviz.stats.stats_utils import ELPDData

    return ELPDData(
        data=[elpd, se, float(p), int(n_samples), n, False, pointwise.rename("loo_i"), k, "log", 0.7],
        index=[
            "elpd_loo",
            "se",
            "p_loo",
            "n_samples",
            "n_data_points",
            "warning",
            "loo_i",
            "pareto_k",
            "scale",
            "good_k",
        ],
    )


def compare(elpds: dict, method: str) -> pd.DataFrame:
    """ArviZ's ``compare`` on :func:`elpd_data` objects, with the same columns on both versions.

    Parameters
    ----------
    elpds : dict of str to ELPD object
    method : {"stacking", "pseudo-BMA"}

    Returns
    -------
    pandas.DataFrame
        Ranked best first; columns ``rank, elpd, se, p, elpd_diff, dse, weight``, where
        ``elpd_diff`` is the model's elpd minus the best model's (0 for the best, else
        negative, as in ArviZ 1.x and R's ``loo``; ArviZ 0.2x reports the opposite sign).
    """
    if ARVIZ_1:
        table = az.compare(elpds, method=method, round_to="none")
        table["elpd_diff"] = 0.0 - np.abs(table["elpd_diff"].astype(float))
    else:
        with warnings.catch_warnings():  # ArviZ 0.2x sorts in place, which pandas 3.1 deprecates
            warnings.filterwarnings("ignore", message="The inplace keyword")
            table = az.compare(elpds, ic="loo", method=method, scale="log")
        table = table.rename(columns={"elpd_loo": "elpd", "p_loo": "p"})
        table["elpd_diff"] = 0.0 - table["elpd_diff"].astype(float)
    cols = ["rank", "elpd", "se", "p", "elpd_diff", "dse", "weight"]
    table = table[cols].copy()
    table["rank"] = table["rank"].astype(int)
    for c in cols[1:]:
        table[c] = table[c].astype(float)
    return table


def ess_columns(draws) -> tuple[np.ndarray, np.ndarray]:
    """Bulk and tail effective sample size of each column of ``draws``, shape (chain, draw, column).

    Returns two arrays of shape (column,). ArviZ 1.x cannot take the tail ESS of a bare NumPy
    array, so the draws go in as one variable of a ``Dataset`` under both versions.
    """
    x = np.asarray(draws, dtype=float)
    data = xr.Dataset({"x": (("chain", "draw", "column"), x)})
    out = []
    for method in ("bulk", "tail"):
        ess = az.ess(data, method=method)
        ess = ess if isinstance(ess, xr.Dataset) else group(ess, "posterior")
        out.append(np.asarray(ess["x"], dtype=float))
    return out[0], out[1]


def ess_array(draws) -> float:
    """Bulk effective sample size of one quantity, shape (chain, draw)."""
    return float(az.ess(np.asarray(draws, dtype=float)))
