"""The few places where ArviZ 0.2x (InferenceData) and 1.x (DataTree) differ."""

from __future__ import annotations

import re

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


def summary(data, var_names, hdi_prob: float) -> pd.DataFrame:
    """ArviZ's summary with the same column names on both versions.

    Columns: ``mean, sd, hdi_<lo>%, hdi_<hi>%, mcse_mean, mcse_sd, ess_bulk, ess_tail, r_hat``.
    """
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
