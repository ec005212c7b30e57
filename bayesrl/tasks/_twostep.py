"""The two-step task (Daw et al. 2011): a first-stage choice, a probabilistic transition, a second-stage choice."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._base import Task
from ._gainloss import random_walk_probabilities


def two_step(
    n_trials: int = 201,
    *,
    trans_prob: float = 0.7,
    reward_probs=None,
    sd: float = 0.025,
    lower: float = 0.25,
    upper: float = 0.75,
    seed: int = 0,
) -> Task:
    r"""The two-step task: each first-stage option leads commonly to one second-stage state, rarely to the other.

    On each trial the participant chooses one of two first-stage options (``level1_choice``
    1 or 2). With probability ``trans_prob`` (a *common* transition) option 1 leads to state A
    and option 2 to state B; otherwise (*rare*) the other way round. In the state reached the
    participant chooses one of its two options, coded as hBayesDM's ``level2_choice``: 1 and
    2 in state A, 3 and 4 in state B. Second-stage option :math:`j` pays a reward of 1 with
    probability :math:`p_t(j)`, else 0; the four probabilities drift independently as Gaussian
    random walks (step sd 0.025) reflected at 0.25 and 0.75, as in Daw et al. (2011)
    (:func:`bayesrl.tasks.random_walk_probabilities`).

    Parameters
    ----------
    n_trials : int, default 201
        Number of trials (Daw et al. 2011: 201).
    trans_prob : float, default 0.7
        Probability of the common transition (hBayesDM's ``trans_prob``).
    reward_probs : array_like, shape (trial, 4), optional
        Reward probabilities of the four second-stage options to use instead of a random walk
        (``n_trials`` then follows its length).
    sd, lower, upper : float
        Step sd and reflecting bounds of the random walk.
    seed : int, default 0
        Seed of the random walk: every simulated participant sees the same drifting
        probabilities, as in the experiment; transitions and rewards are drawn per participant.

    Returns
    -------
    Task
        Two stages with ``n_options=(2, 4)``; ``offer`` draws the transition (the second-stage
        state, 0 for options 1-2, 1 for options 3-4); ``respond`` gives ``outcome`` (0 or 1,
        hBayesDM's ``reward``). ``reward_probs`` is kept in ``Task.inputs`` under
        ``reward_prob_1`` ... ``reward_prob_4`` for plots (no model reads them).

    References
    ----------
    Daw, N. D., Gershman, S. J., Seymour, B., Dayan, P., & Dolan, R. J. (2011). Model-based
    influences on humans' choices and striatal prediction errors. *Neuron*, 69(6), 1204-1215.
    """
    if not 0.0 <= trans_prob <= 1.0:
        raise ValueError(f"two_step(): trans_prob must be in [0, 1], got {trans_prob}")
    if reward_probs is None:
        if int(n_trials) < 1:
            raise ValueError(f"two_step(): n_trials must be positive, got {n_trials}")
        reward_probs = random_walk_probabilities(n_trials, 4, sd=sd, lower=lower, upper=upper, seed=seed)
    probs = np.asarray(reward_probs, dtype=float)
    if probs.ndim != 2 or probs.shape[1] != 4 or np.any((probs < 0) | (probs > 1)):
        raise ValueError(f"two_step(): reward_probs must be (n_trials, 4) probabilities, got shape {probs.shape}")
    table = jnp.asarray(probs)

    def offer(key, t, stage, choice):
        common = jax.random.uniform(key) < trans_prob
        return jnp.where(common, choice[0], 1 - choice[0])

    def respond(key, t, choice):
        return {"outcome": (jax.random.uniform(key) < table[t, choice[1]]).astype(table.dtype)}

    return Task(
        name="two_step",
        n_options=(2, 4),
        n_trials=probs.shape[0],
        respond=respond,
        outcome_fields=("outcome",),
        inputs={f"reward_prob_{j + 1}": probs[:, j] for j in range(4)},
        offer=offer,
    )
