"""The probabilistic selection task (Frank et al., 2004): pairs of stimuli with fixed reward odds."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._base import Task


def pst(
    n_trials: int,
    pairs=((1, 2), (3, 4), (5, 6)),
    probabilities=(0.8, 0.7, 0.6),
    *,
    seed: int = 0,
    reward: float = 1.0,
    no_reward: float = 0.0,
) -> Task:
    """The training phase of the probabilistic selection task, coded as hBayesDM codes it.

    Each trial offers one pair of stimuli; its ``type`` input is ``10 * first + second``
    (12, 34, 56). Choosing the first stimulus of pair ``j`` is rewarded with probability
    ``probabilities[j]``, choosing the second with ``1 - probabilities[j]`` (80/20, 70/30,
    60/40 by default, the AB, CD, EF pairs of Frank et al., 2004).

    Parameters
    ----------
    n_trials : int
    pairs : sequence of (int, int), default ((1, 2), (3, 4), (5, 6))
        Stimuli of each pair, numbered 1..9 (one digit each in ``type``).
    probabilities : sequence of float, default (0.8, 0.7, 0.6)
        Reward probability of the first stimulus of each pair.
    seed : int, default 0
        Seed of the trial order. The order is balanced (each pair ``n_trials // n_pairs``
        times, the remainder drawn from the pairs in turn), shuffled once, and the same for
        every simulated participant: ``Task.inputs`` hold one sequence. Use a different seed
        per group of participants for different orders.
    reward, no_reward : float, default 1 and 0
        Outcome when rewarded and when not (hBayesDM's example data use 1 and 0).

    Returns
    -------
    Task
        Two options (0 = chose the second stimulus of the pair, 1 = the first, as the
        ``choice`` column codes it); inputs ``type`` (float, shape (trial,)); feedback
        ``outcome``.
    """
    pairs = np.asarray(pairs, dtype=int)
    p = np.asarray(probabilities, dtype=float)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.shape[0] < 1:
        raise ValueError(f"pst(): pairs must be a sequence of (first, second) stimuli, got {pairs.tolist()}")
    if np.any((pairs < 1) | (pairs > 9)) or np.any(pairs[:, 0] == pairs[:, 1]):
        raise ValueError(f"pst(): stimuli must be 1..9 and differ within a pair, got {pairs.tolist()}")
    if p.shape != (pairs.shape[0],) or np.any((p < 0) | (p > 1)):
        raise ValueError(
            f"pst(): need one probability in [0, 1] per pair ({pairs.shape[0]}), got {np.asarray(probabilities)}"
        )
    n_trials = int(n_trials)
    if n_trials < 1:
        raise ValueError(f"pst(): n_trials must be positive, got {n_trials}")
    n_pairs = pairs.shape[0]
    order = np.resize(np.arange(n_pairs), n_trials)  # balanced: 0, 1, 2, 0, 1, 2, ...
    order = np.random.default_rng(seed).permutation(order)
    codes = (10 * pairs[:, 0] + pairs[:, 1]).astype(float)
    p_first = jnp.asarray(p[order])

    def respond(key, t, choice):
        p_win = jnp.where(choice == 1, p_first[t], 1.0 - p_first[t])
        return {"outcome": jnp.where(jax.random.uniform(key) < p_win, reward, no_reward)}

    return Task(
        name="pst",
        n_options=2,
        n_trials=n_trials,
        respond=respond,
        outcome_fields=("outcome",),
        inputs={"type": codes[order]},
    )
