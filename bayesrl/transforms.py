"""Parameter constraints and their group-level priors.

Every parameter lives on an unconstrained real line inside the hierarchy and is mapped to
its natural range by a link: ``Phi_approx`` scaled to ``[lower, upper]`` for bounded
parameters (the hBayesDM convention), ``exp`` for parameters bounded below only, and the
identity for unbounded ones.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from jax.nn import sigmoid

_A, _B = 0.07056, 1.5976  # Phi_approx(x) = logistic(0.07056 x^3 + 1.5976 x) (Bowling et al. 2009)


def phi_approx(x):
    """Fast approximation of the standard normal CDF used by Stan and hBayesDM.

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    jax.Array
        Same shape as ``x``, values in (0, 1).
    """
    x = jnp.asarray(x)
    return sigmoid(_A * x**3 + _B * x)


def inv_phi_approx(p):
    """Inverse of :func:`phi_approx` (NumPy; closed-form root of the cubic).

    Parameters
    ----------
    p : array_like
        Probabilities in (0, 1), any shape.

    Returns
    -------
    numpy.ndarray
        Same shape as ``p``.
    """
    p = np.asarray(p, dtype=float)
    d = np.log(p) - np.log1p(-p)
    # a x^3 + b x - d = 0  ->  x^3 + P x + Q = 0 with P = b/a > 0: a single real root (Cardano)
    big_p, q = _B / _A, -d / _A
    root = np.sqrt(q**2 / 4 + big_p**3 / 27)
    return np.cbrt(-q / 2 + root) + np.cbrt(-q / 2 - root)


class Prior(NamedTuple):
    """Group-level prior of one parameter, on the unconstrained scale.

    ``mu ~ Normal(mu_loc, mu_scale)``, ``sigma ~ HalfNormal(sigma_scale)`` (or
    ``HalfCauchy(sigma_scale)`` with ``sigma_family="halfcauchy"``, as some hBayesDM models
    use), and each participant's unconstrained value is ``mu + sigma * z`` with
    ``z ~ Normal(0, 1)``.

    With ``brl.fit(..., formula=...)`` the intercept takes the ``mu`` prior and every other
    regression coefficient ``Normal(0, coef_scale)``; so do the condition offsets of
    ``conditions=`` (whose participant-level scales take the ``sigma`` prior). With
    standardised covariates, ``coef_scale=1`` lets one sd of a covariate move the location by
    about two units of the unconstrained scale (most of a ``[0, 1]`` parameter's range) while
    keeping implausibly large effects unlikely.
    """

    mu_loc: float = 0.0
    mu_scale: float = 1.0
    sigma_scale: float = 0.2
    sigma_family: str = "halfnormal"
    coef_scale: float = 1.0


class Parameter(NamedTuple):
    """A model parameter: its range, link function and group-level prior.

    Build one with :func:`unit`, :func:`positive`, :func:`bounded` or :func:`real`.
    """

    lower: float
    upper: float
    link: str  # "phi_approx", "exp" or "identity"
    prior: Prior = Prior()

    def constrain(self, x):
        """Map unconstrained values (any shape) to the parameter's range."""
        if self.link == "phi_approx":
            return self.lower + (self.upper - self.lower) * phi_approx(x)
        if self.link == "exp":
            return self.lower + jnp.exp(x)
        return jnp.asarray(x)

    def unconstrain(self, y):
        """Map values in the parameter's range (any shape) back to the real line (NumPy)."""
        y = np.asarray(y, dtype=float)
        if self.link == "phi_approx":
            return inv_phi_approx((y - self.lower) / (self.upper - self.lower))
        if self.link == "exp":
            return np.log(y - self.lower)
        return y

    def contains(self, y) -> np.ndarray:
        """Elementwise test that natural-scale values lie in the allowed range."""
        y = np.asarray(y, dtype=float)
        if self.link == "phi_approx":
            return (y >= self.lower) & (y <= self.upper)
        if self.link == "exp":
            return y > self.lower
        return np.isfinite(y)

    def describe(self) -> str:
        """A short human-readable range, e.g. ``[0, 5]``."""
        if self.link == "identity":
            return "real"
        hi = "inf" if math.isinf(self.upper) else f"{self.upper:g}"
        return f"[{self.lower:g}, {hi}]" if self.link == "phi_approx" else f"({self.lower:g}, inf)"

    def with_prior(self, prior: Prior) -> Parameter:
        """A copy with another group-level prior."""
        return self._replace(prior=prior)


def bounded(lower: float, upper: float, prior: Prior | None = None) -> Parameter:
    """A parameter in ``[lower, upper]``: ``lower + (upper - lower) * Phi_approx(x)``.

    Parameters
    ----------
    lower, upper : float
        Finite bounds, ``lower < upper``.
    prior : Prior, optional
        Group-level prior; defaults to hBayesDM's ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``.
    """
    if not (math.isfinite(lower) and math.isfinite(upper) and lower < upper):
        raise ValueError(f"bounded() needs finite lower < upper, got [{lower}, {upper}]")
    return Parameter(float(lower), float(upper), "phi_approx", prior or Prior())


def unit(prior: Prior | None = None) -> Parameter:
    """A parameter in ``[0, 1]`` (learning rates, lapse rates): ``Phi_approx(x)``."""
    return bounded(0.0, 1.0, prior)


def positive(upper: float | None = None, prior: Prior | None = None) -> Parameter:
    """A positive parameter: ``upper * Phi_approx(x)`` when ``upper`` is given, else ``exp(x)``.

    Parameters
    ----------
    upper : float, optional
        Upper bound (e.g. 5 or 10 for an inverse temperature, as in hBayesDM).
    prior : Prior, optional
        Group-level prior on the unconstrained scale.
    """
    if upper is not None:
        return bounded(0.0, upper, prior)
    return Parameter(0.0, math.inf, "exp", prior or Prior(sigma_scale=1.0))


def real(prior: Prior | None = None) -> Parameter:
    """An unbounded parameter (e.g. a perseveration bonus), identity link."""
    return Parameter(-math.inf, math.inf, "identity", prior or Prior(sigma_scale=1.0))
