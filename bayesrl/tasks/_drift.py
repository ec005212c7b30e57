"""Bandits whose arms pay drifting Gaussian amounts (Daw et al. 2006)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._base import Task


def drifting_means(
    n_trials: int,
    n_options: int = 4,
    *,
    decay: float = 0.9836,
    center: float = 50.0,
    diffusion_sd: float = 2.8,
    start=None,
    seed: int = 0,
) -> np.ndarray:
    r"""Mean payoffs following decaying Gaussian random walks (Daw et al. 2006).

    .. math::

        m_{t+1}(k) = \lambda\,m_t(k) + (1 - \lambda)\,\theta + \nu_t(k), \qquad
        \nu_t(k) \sim N(0, \sigma_D^2)

    with Daw et al.'s :math:`\lambda = 0.9836`, :math:`\theta = 50`, :math:`\sigma_D = 2.8`.

    Parameters
    ----------
    n_trials : int
    n_options : int, default 4
    decay, center, diffusion_sd : float
        :math:`\lambda`, :math:`\theta`, :math:`\sigma_D`.
    start : array_like, shape (option,), optional
        Means on the first trial; default drawn from the walk's stationary distribution
        :math:`N(\theta, \sigma_D^2 / (1 - \lambda^2))`.
    seed : int, default 0
        NumPy seed: the same seed gives the same walk.

    Returns
    -------
    numpy.ndarray, shape (trial, option)
    """
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"drifting_means(): decay must be in [0, 1), got {decay}")
    rng = np.random.default_rng(seed)
    if start is None:
        m = center + diffusion_sd / np.sqrt(1.0 - decay**2) * rng.normal(size=n_options)
    else:
        m = np.asarray(start, dtype=float).copy()
        if m.shape != (n_options,):
            raise ValueError(f"drifting_means(): start must have {n_options} values, got shape {m.shape}")
    out = np.empty((int(n_trials), n_options))
    for t in range(int(n_trials)):
        out[t] = m
        m = decay * m + (1.0 - decay) * center + rng.normal(0.0, diffusion_sd, n_options)
    return out


def drifting_bandit(
    n_trials: int = 300,
    n_options: int = 4,
    *,
    means=None,
    payoff_sd: float = 4.0,
    lower: float = 1.0,
    upper: float = 100.0,
    fields: str = "outcome",
    seed: int = 0,
    **walk,
) -> Task:
    r"""An N-armed bandit with drifting payoffs (the "restless bandit" of Daw et al. 2006).

    Arm :math:`k` on trial :math:`t` pays :math:`\mathrm{round}(m_t(k) + \epsilon)`,
    :math:`\epsilon \sim N(0, \sigma_O^2)`, clipped to ``[lower, upper]`` (hBayesDM's
    ``bandit4arm2`` data hold payoffs 1..100). The means :math:`m` are computed once, with
    NumPy, when the task is built (:func:`drifting_means`), so every simulated participant
    sees the same walk, as in the experiment; only the payoff noise differs.

    Parameters
    ----------
    n_trials : int, default 300
    n_options : int, default 4
    means : array_like, shape (trial, option), optional
        Mean payoffs to use instead of a random walk (``n_trials``/``n_options`` then follow
        its shape).
    payoff_sd : float, default 4
        :math:`\sigma_O`, the payoff noise around the mean.
    lower, upper : float, default 1, 100
        Payoffs are clipped to this range.
    fields : {"outcome", "gain_loss"}
        ``"outcome"``: the payoff in one field ``outcome`` (``bandit4arm2_kalman_filter``);
        ``"gain_loss"``: positive payoffs in ``gain`` and negative ones in ``loss`` (the other
        field 0), the columns of hBayesDM's ``banditNarm_*`` models.
    seed : int, default 0
        Seed of the random walk.
    **walk
        ``decay``, ``center``, ``diffusion_sd``, ``start`` for :func:`drifting_means`.

    Returns
    -------
    Task
        Outcome field ``outcome`` (or ``gain`` and ``loss``): the payoff of the chosen arm.

    References
    ----------
    Daw, N. D., O'Doherty, J. P., Dayan, P., Seymour, B., & Dolan, R. J. (2006). Cortical
    substrates for exploratory decisions in humans. *Nature*, 441(7095), 876-879.
    """
    if means is None:
        means = drifting_means(n_trials, n_options, seed=seed, **walk)
    elif walk:
        raise ValueError(f"drifting_bandit(): {sorted(walk)} only apply when means is not given")
    if fields not in ("outcome", "gain_loss"):
        raise ValueError(f"drifting_bandit(): fields must be 'outcome' or 'gain_loss', got {fields!r}")
    m = np.asarray(means, dtype=float)
    if m.ndim != 2 or m.shape[1] < 2:
        raise ValueError(f"drifting_bandit(): means must be (n_trials, option) with >= 2 options, got {m.shape}")
    table = jnp.asarray(m)

    def respond(key, t, choice):
        payoff = jnp.round(table[t, choice] + payoff_sd * jax.random.normal(key, dtype=table.dtype))
        payoff = jnp.clip(payoff, lower, upper)
        if fields == "outcome":
            return {"outcome": payoff}
        return {"gain": jnp.maximum(payoff, 0.0), "loss": jnp.minimum(payoff, 0.0)}

    return Task(
        name="drifting_bandit",
        n_options=m.shape[1],
        n_trials=m.shape[0],
        respond=respond,
        outcome_fields=("outcome",) if fields == "outcome" else ("gain", "loss"),
    )
