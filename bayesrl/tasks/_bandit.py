"""Bandit tasks with Bernoulli outcomes, fixed or changing (reversal) reward probabilities."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._base import Task


def reversal_schedule(probabilities, n_trials: int, every: int) -> np.ndarray:
    """Reward probabilities that reverse (options' probabilities cycled) every ``every`` trials.

    Parameters
    ----------
    probabilities : sequence of float, shape (option,)
        Probabilities in the first phase.
    n_trials : int
    every : int
        Trials per phase.

    Returns
    -------
    numpy.ndarray, shape (trial, option)
    """
    p = np.asarray(probabilities, dtype=float)
    phase = np.arange(n_trials) // int(every)
    return np.stack([np.roll(p, k) for k in phase])


def bandit(probabilities, n_trials: int | None = None, *, reward: float = 1.0, no_reward: float = 0.0) -> Task:
    """A multi-armed bandit with Bernoulli outcomes.

    Parameters
    ----------
    probabilities : array_like, shape (option,) or (trial, option)
        Reward probability of each option, fixed or per trial (e.g. from
        :func:`reversal_schedule`).
    n_trials : int, optional
        Number of trials; required when ``probabilities`` is 1-D.
    reward, no_reward : float
        Outcome when rewarded and when not (hBayesDM's bandit2arm data uses 1 and -1).

    Returns
    -------
    Task
        ``outcome`` is ``reward`` with the chosen option's probability on that trial, else
        ``no_reward``.
    """
    p = np.asarray(probabilities, dtype=float)
    if p.ndim == 1:
        if n_trials is None:
            raise ValueError("bandit(): give n_trials when probabilities is one row per option")
        p = np.broadcast_to(p, (int(n_trials), p.shape[0]))
    elif p.ndim != 2 or (n_trials is not None and p.shape[0] != n_trials):
        raise ValueError(f"bandit(): probabilities must be (option,) or (n_trials, option), got {p.shape}")
    if p.shape[1] < 2 or np.any((p < 0) | (p > 1)):
        raise ValueError("bandit(): need at least 2 options and probabilities in [0, 1]")
    table = jnp.asarray(p)

    def respond(key, t, choice):
        win = jax.random.uniform(key) < table[t, choice]
        return {"outcome": jnp.where(win, reward, no_reward)}

    return Task(
        name="bandit",
        n_options=p.shape[1],
        n_trials=p.shape[0],
        respond=respond,
        outcome_fields=("outcome",),
    )
