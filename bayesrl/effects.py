"""Group differences and covariate effects of a fit with ``formula=`` or ``conditions=``.

:func:`coefficients` reports the regression coefficients (and condition offsets) on the
unconstrained scale. :func:`group_means` and :func:`contrast` derive natural-scale quantities:
the *group location* of a parameter at given covariate values is ``constrain(x @ beta)`` (plus
the condition's offset), the natural-scale value of a participant whose own deviation is zero,
that is the population median of the parameter (hBayesDM's ``mu_p``), not its mean. Covariates
not named are held at their reference: a numeric covariate at its mean over participants (0
once standardised), a categorical one at its reference level (first in sorted order), a
condition at its reference condition; ``at=`` overrides any of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _arviz
from .data import _py


def _require_design(fit, param):
    if param not in fit.param_names:
        raise ValueError(f"unknown parameter {param!r}; this fit has {fit.param_names}")
    design = fit.design
    d = None if design is None else design.params.get(param)
    if d is None or (d.formula is None and d.condition is None):
        raise ValueError(
            f"parameter {param!r} was fitted without formula= or conditions=, so it has no group differences to "
            f"derive; fit with e.g. formula={{{param!r}: '1 + group'}}"
        )
    return design, d


def _spec(fit, param):
    if fit.model is not None:
        return fit.model.params[param]
    from .transforms import Parameter, Prior

    info = fit.metadata["model"]["params"][param]
    return Parameter(info["lower"], info["upper"], info["link"], Prior(**info["prior"]))


def _flat(fit, var) -> np.ndarray:
    """Draws of a posterior variable, shape (chain, draw, ...)."""
    x = fit.posterior[var]
    return np.asarray(x.transpose("chain", "draw", ...))


def _match(value, levels, what):
    for lv in levels:
        if value == lv or str(value) == str(lv):
            return lv
    raise ValueError(f"{what}: {value!r} is not a level; the levels are {[_py(x) for x in levels]}")


def _formula_row(design, d, param, values: dict) -> np.ndarray:
    """The design row (coef,) of covariate values (raw scale); others at their reference."""
    from .design import _is_continuous, _levels

    used = [c for c in design.raw.columns if c in design.specs[param].variables_by_source.get("data", set())]
    row = {}
    for col in used:
        series = design.raw[col]
        continuous = _is_continuous(series) and (col in design.scaling or _numerical(design, param, col))
        if col in values:
            value = float(values[col]) if continuous else _match(values[col], _levels(series), f"{col!r}")
        elif continuous:
            value = float(series.mean())
        else:
            value = _levels(series)[0]
        if col in design.scaling:
            mean, sd = design.scaling[col]
            value = (float(value) - mean) / sd
        row[col] = [value]
    frame = pd.DataFrame(row)
    for col in used:
        if isinstance(design.covariates[col].dtype, pd.CategoricalDtype):
            frame[col] = pd.Categorical(frame[col], categories=design.covariates[col].cat.categories)
    return np.asarray(design.specs[param].get_model_matrix(frame), dtype=float)[0]


def _numerical(design, param, col) -> bool:
    """Whether ``param``'s formula uses the column ``col`` as a plain numeric term."""
    state = design.specs[param].encoder_state.get(col)
    return state is not None and getattr(state[0], "value", None) == "numerical"


def _variables(design, d, param) -> list[str]:
    names = []
    if d.formula:
        names += sorted(design.specs[param].variables_by_source.get("data", set()))
    if d.condition:
        names.append(d.condition)
    return names


def location_draws(fit, param: str, values: dict) -> np.ndarray:
    """Unconstrained group location of ``param`` at given covariate (and condition) values.

    Parameters
    ----------
    fit : bayesrl.Fit
    param : str
    values : dict
        Covariate values on their original scale (levels for categorical ones) and, for a
        parameter with conditions, the condition under its column name; anything not given is
        at its reference (see the module docstring).

    Returns
    -------
    numpy.ndarray, shape (chain, draw)
    """
    design, d = _require_design(fit, param)
    unknown = [k for k in values if k not in _variables(design, d, param)]
    if unknown:
        raise ValueError(
            f"{unknown} are not covariates or conditions of {param!r}; it has {_variables(design, d, param)}"
        )
    if d.formula:
        loc = _flat(fit, f"{param}_beta") @ _formula_row(design, d, param, values)
    else:
        loc = _flat(fit, f"{param}_mu")
    if d.condition:
        level = _match(values.get(d.condition, d.condition_levels[0]), d.condition_levels, f"{d.condition!r}")
        k = list(d.condition_levels).index(level)
        if k > 0:
            loc = loc + _flat(fit, f"{param}_cond")[..., k - 1]
    return loc


def _summary(draws: np.ndarray, hdi_prob: float) -> dict:
    from .results import hdi

    flat = draws.reshape(-1)
    lo, hi = hdi(flat[:, None], hdi_prob)
    return {
        "mean": float(flat.mean()),
        "sd": float(flat.std(ddof=1)),
        "hdi_lower": float(lo[0]),
        "hdi_upper": float(hi[0]),
        "prob_positive": float((flat > 0).mean()),
    }


def coefficients(fit, param: str | None = None, hdi_prob: float = 0.9) -> pd.DataFrame:
    """Regression coefficients and condition offsets on the unconstrained scale.

    Parameters
    ----------
    fit : bayesrl.Fit
    param : str, optional
        One parameter; default every parameter with a formula or conditions.
    hdi_prob : float, default 0.9

    Returns
    -------
    pandas.DataFrame
        Index (``param``, ``term``): the formula's terms (``Intercept``, ``group[T.patient]``,
        ``age``...; a slope of a standardised covariate is per sd) and ``<condition>[<level>]``
        for each condition offset. Columns ``mean, sd, hdi_lower, hdi_upper, prob_positive``
        (posterior probability that the coefficient is above 0), ``ess_bulk``, ``r_hat``.
    """
    names = [param] if param is not None else list(fit.design.params) if fit.design is not None else []
    rows = {}
    for p in names:
        design, d = _require_design(fit, p)
        items = []
        if d.formula:
            beta = _flat(fit, f"{p}_beta")
            items += [(t, beta[..., j]) for j, t in enumerate(d.terms)]
        if d.condition:
            off = _flat(fit, f"{p}_cond")
            items += [(f"{d.condition}[{lv}]", off[..., j]) for j, lv in enumerate(d.condition_levels[1:])]
        for term, draws in items:
            row = _summary(draws, hdi_prob)
            row["ess_bulk"] = _arviz.ess_array(draws)
            row["r_hat"] = _rhat(draws)
            rows[(p, term)] = row
    if not rows:
        raise ValueError("this fit has no formula= or conditions=, so no coefficients")
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index = pd.MultiIndex.from_tuples(table.index, names=["param", "term"])
    return table


def _rhat(draws) -> float:
    import arviz as az

    if draws.shape[0] < 2:
        return float("nan")
    return float(np.asarray(az.rhat(np.asarray(draws, float))))


def group_means(fit, param: str, by: str, *, at=None, hdi_prob: float = 0.9) -> pd.DataFrame:
    """Natural-scale group location of ``param`` at each level of a categorical covariate or condition.

    Parameters
    ----------
    fit : bayesrl.Fit
    param : str
    by : str
        A categorical covariate of ``param``'s formula, or its condition column.
    at : dict, optional
        Values of the other covariates (default: their reference, see the module docstring).
    hdi_prob : float, default 0.9

    Returns
    -------
    pandas.DataFrame
        One row per level: ``mean, sd, hdi_lower, hdi_upper`` of ``constrain(location)``.
    """
    from .design import _is_continuous, _levels

    design, d = _require_design(fit, param)
    if by == d.condition:
        levels = d.condition_levels
    elif by in design.raw.columns and by in _variables(design, d, param):
        if _is_continuous(design.raw[by]) and (by in design.scaling or _numerical(design, param, by)):
            raise ValueError(f"{by!r} is a numeric covariate; use contrast() with two values of it")
        levels = _levels(design.raw[by])
    else:
        raise ValueError(f"{by!r} is not a covariate or condition of {param!r}; it has {_variables(design, d, param)}")
    spec = _spec(fit, param)
    rows = {}
    for lv in levels:
        draws = np.asarray(spec.constrain(location_draws(fit, param, {**dict(at or {}), by: lv})))
        row = _summary(draws, hdi_prob)
        row.pop("prob_positive")
        rows[_py(lv)] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(by)


@dataclass
class Contrast:
    """The posterior of ``constrain(location at a) - constrain(location at b)`` (see :func:`contrast`).

    Attributes
    ----------
    param, by : str
    a, b : object
        The two values of ``by`` compared.
    draws : numpy.ndarray, shape (chain, draw)
        Posterior draws of the difference (natural scale).
    draws_a, draws_b : numpy.ndarray, shape (chain, draw)
        The two natural-scale group locations.
    hdi_prob : float
    """

    param: str
    by: str
    a: object
    b: object
    draws: np.ndarray
    draws_a: np.ndarray
    draws_b: np.ndarray
    hdi_prob: float

    @property
    def mean(self) -> float:
        """Posterior mean of the difference."""
        return float(self.draws.mean())

    @property
    def hdi(self) -> tuple[float, float]:
        """Highest-density interval of the difference at ``hdi_prob``."""
        s = _summary(self.draws, self.hdi_prob)
        return s["hdi_lower"], s["hdi_upper"]

    @property
    def prob_positive(self) -> float:
        """Posterior probability that the difference is above 0 (``a`` above ``b``)."""
        return float((self.draws > 0).mean())

    @property
    def p_direction(self) -> float:
        """Probability of direction: the larger of P(difference > 0) and P(difference < 0)."""
        return max(self.prob_positive, float((self.draws < 0).mean()))

    def summary(self) -> pd.Series:
        """``a_mean, b_mean, difference, sd, hdi_lower, hdi_upper, prob_positive, p_direction``."""
        s = _summary(self.draws, self.hdi_prob)
        return pd.Series(
            {
                "a_mean": float(self.draws_a.mean()),
                "b_mean": float(self.draws_b.mean()),
                "difference": s["mean"],
                "sd": s["sd"],
                "hdi_lower": s["hdi_lower"],
                "hdi_upper": s["hdi_upper"],
                "prob_positive": s["prob_positive"],
                "p_direction": self.p_direction,
            },
            name=f"{self.param}: {self.by}={_py(self.a)!r} - {self.by}={_py(self.b)!r}",
        )

    def __repr__(self) -> str:
        lo, hi = self.hdi
        return (
            f"<Contrast {self.param} ({self.by} {_py(self.a)!r} - {_py(self.b)!r}, natural scale): "
            f"{self.mean:.3f}, {self.hdi_prob:.0%} HDI [{lo:.3f}, {hi:.3f}], P(> 0) = {self.prob_positive:.3f}>"
        )


def contrast(fit, param: str, by: str, a, b, *, at=None, hdi_prob: float = 0.9) -> Contrast:
    """Difference of ``param``'s natural-scale group locations between two values of a covariate or condition.

    ``fit.contrast("alpha", "group", "patient", "control")`` is the posterior of
    ``constrain(x_patient @ alpha_beta) - constrain(x_control @ alpha_beta)``, with the other
    covariates at their reference (``at=`` to choose). ``by`` may be a numeric covariate (``a``
    and ``b`` on its original scale, e.g. ``contrast("alpha", "age", 60, 30)``) or the
    parameter's condition column.

    Parameters
    ----------
    fit : bayesrl.Fit
    param : str
    by : str
    a, b
        Levels (or values) of ``by``.
    at : dict, optional
    hdi_prob : float, default 0.9

    Returns
    -------
    Contrast
        ``mean``, ``hdi``, ``prob_positive``, ``p_direction``, ``summary()`` and the draws.
    """
    at = dict(at or {})
    if by in at:
        raise ValueError(f"{by!r} is compared ({a!r} vs {b!r}); do not also give it in at=")
    _require_design(fit, param)
    spec = _spec(fit, param)
    loc_a = location_draws(fit, param, {**at, by: a})
    loc_b = location_draws(fit, param, {**at, by: b})
    nat_a, nat_b = np.asarray(spec.constrain(loc_a)), np.asarray(spec.constrain(loc_b))
    return Contrast(param, by, a, b, nat_a - nat_b, nat_a, nat_b, hdi_prob)
