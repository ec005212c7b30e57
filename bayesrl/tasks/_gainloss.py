"""N-armed bandits with separate reward and punishment streams (Seymour et al. 2012 style)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._base import Task


def random_walk_probabilities(
    n_trials: int,
    n_options: int,
    *,
    start=None,
    sd: float = 0.025,
    lower: float = 0.25,
    upper: float = 0.75,
    seed: int = 0,
) -> np.ndarray:
    """Probabilities that drift as Gaussian random walks reflected at ``lower`` and ``upper``.

    Seymour et al. (2012) let each arm's reward and punishment probabilities drift
    independently in this way; the defaults here are in that spirit, not copied from the paper.

    Parameters
    ----------
    n_trials, n_options : int
    start : array_like, shape (option,), optional
        Probabilities on the first trial; default uniform in ``[lower, upper]`` from ``seed``.
    sd : float, default 0.025
        Standard deviation of each trial's step.
    lower, upper : float, default 0.25, 0.75
        Reflecting bounds, ``0 <= lower < upper <= 1``.
    seed : int, default 0
        NumPy seed: the same seed gives the same walk.

    Returns
    -------
    numpy.ndarray, shape (trial, option)
    """
    if not (0.0 <= lower < upper <= 1.0):
        raise ValueError(f"random_walk_probabilities(): need 0 <= lower < upper <= 1, got {lower}, {upper}")
    rng = np.random.default_rng(seed)
    p = rng.uniform(lower, upper, n_options) if start is None else np.asarray(start, dtype=float).copy()
    if p.shape != (n_options,) or np.any((p < lower) | (p > upper)):
        raise ValueError(f"random_walk_probabilities(): start must be {n_options} values in [{lower}, {upper}]")
    out = np.empty((int(n_trials), n_options))
    width = upper - lower
    for t in range(int(n_trials)):
        out[t] = p
        x = (p + rng.normal(0.0, sd, n_options) - lower) % (2 * width)  # reflect at both bounds
        p = lower + np.where(x > width, 2 * width - x, x)
    return out


def _per_trial(p, n_trials, what):
    p = np.asarray(p, dtype=float)
    if p.ndim == 1:
        if n_trials is None:
            raise ValueError(f"gain_loss_bandit(): give n_trials when {what} is one value per option")
        p = np.broadcast_to(p, (int(n_trials), p.shape[0]))
    elif p.ndim != 2 or (n_trials is not None and p.shape[0] != n_trials):
        raise ValueError(f"gain_loss_bandit(): {what} must be (option,) or (n_trials, option), got {p.shape}")
    if p.shape[1] < 2 or np.any((p < 0) | (p > 1)):
        raise ValueError(f"gain_loss_bandit(): {what} needs at least 2 options and probabilities in [0, 1]")
    return p


def gain_loss_bandit(p_gain, p_loss, n_trials: int | None = None, *, gain: float = 1.0, loss: float = -1.0) -> Task:
    """An N-armed bandit where each arm can give a gain and, independently, a loss.

    The task of hBayesDM's ``bandit4arm_*`` models (Seymour et al. 2012): on each trial the
    chosen arm gives ``gain`` with probability ``p_gain[t, choice]`` (else 0) and ``loss``
    with probability ``p_loss[t, choice]`` (else 0), both, either or neither.

    Parameters
    ----------
    p_gain, p_loss : array_like, shape (option,) or (trial, option)
        Gain and loss probabilities of each arm, fixed or per trial (e.g. from
        :func:`random_walk_probabilities`).
    n_trials : int, optional
        Number of trials; required when both probabilities are 1-D.
    gain : float, default 1
        Size of a gain (hBayesDM's example data: 1).
    loss : float, default -1
        Size of a loss, negative as in hBayesDM's example data.

    Returns
    -------
    Task
        Outcome fields ``gain`` (0 or ``gain``) and ``loss`` (0 or ``loss``).

    References
    ----------
    Seymour, B., Daw, N. D., Roiser, J. P., Dayan, P., & Dolan, R. (2012). Serotonin selectively
    modulates reward value in human decision-making. *J. Neurosci.*, 32(17), 5833-5842.
    """
    if n_trials is None:
        n_trials = next((np.shape(p)[0] for p in (p_gain, p_loss) if np.ndim(p) == 2), None)
    pg, pl = _per_trial(p_gain, n_trials, "p_gain"), _per_trial(p_loss, n_trials, "p_loss")
    if pg.shape != pl.shape:
        raise ValueError(f"gain_loss_bandit(): p_gain {pg.shape} and p_loss {pl.shape} differ in shape")
    table_gain, table_loss = jnp.asarray(pg), jnp.asarray(pl)

    def respond(key, t, choice):
        k_gain, k_loss = jax.random.split(key)
        won = jax.random.uniform(k_gain) < table_gain[t, choice]
        lost = jax.random.uniform(k_loss) < table_loss[t, choice]
        return {"gain": jnp.where(won, gain, 0.0), "loss": jnp.where(lost, loss, 0.0)}

    return Task(
        name="gain_loss_bandit",
        n_options=pg.shape[1],
        n_trials=pg.shape[0],
        respond=respond,
        outcome_fields=("gain", "loss"),
    )
