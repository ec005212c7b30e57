"""Probabilistic reversal learning (PRL) in hBayesDM's outcome coding."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._bandit import reversal_schedule
from ._base import Task


def probabilistic_reversal(
    n_trials: int = 100,
    *,
    p_correct: float = 0.7,
    reversal_every: int = 25,
    n_blocks: int = 1,
    reward: float = 1.0,
    punishment: float = -1.0,
) -> Task:
    """A two-option probabilistic reversal-learning task.

    One option is "correct" (rewarded with probability ``p_correct``, otherwise punished), the
    other the reverse; which one is correct swaps every ``reversal_every`` trials. Each block
    starts again with option 1 correct, and the learner's state resets at each block start
    (the ``block_start`` the engine uses; hBayesDM's ``prl_*_multipleB`` data).

    Parameters
    ----------
    n_trials : int, default 100
        Trials per block.
    p_correct : float, default 0.7
        Probability that the correct option is rewarded (and that the other is punished).
    reversal_every : int, default 25
        Trials between reversals (a fixed schedule: the task's feedback is a pure function of
        the trial index and the choice, so criterion-based reversals are not expressible).
    n_blocks : int, default 1
        Number of blocks; the task has ``n_blocks * n_trials`` trials.
    reward, punishment : float
        Outcome codes. hBayesDM's ``prl_exampleData.txt`` uses 1 / -1 (the defaults) and
        ``prl_multipleB_exampleData.txt`` uses 25 / -25.

    Returns
    -------
    Task
        Named ``"probabilistic_reversal"``; ``respond`` returns ``outcome``; ``block_start``
        marks the first trial of every block; ``inputs["block"]`` holds the 1-based block
        number of each trial, shape (trial,), for writing a ``block`` column.
    """
    if not 0.0 <= p_correct <= 1.0:
        raise ValueError(f"probabilistic_reversal(): p_correct must be in [0, 1], got {p_correct}")
    if n_trials < 1 or n_blocks < 1 or reversal_every < 1:
        raise ValueError("probabilistic_reversal(): n_trials, n_blocks and reversal_every must be at least 1")
    one_block = reversal_schedule([p_correct, 1.0 - p_correct], n_trials=n_trials, every=reversal_every)
    table = jnp.asarray(np.tile(one_block, (n_blocks, 1)))
    block = np.repeat(np.arange(1, n_blocks + 1), n_trials)
    block_start = np.zeros(n_blocks * n_trials, dtype=bool)
    block_start[::n_trials] = True

    def respond(key, t, choice):
        win = jax.random.uniform(key) < table[t, choice]
        return {"outcome": jnp.where(win, reward, punishment)}

    return Task(
        name="probabilistic_reversal",
        n_options=2,
        n_trials=n_blocks * n_trials,
        respond=respond,
        outcome_fields=("outcome",),
        inputs={"block": block},
        block_start=block_start,
    )
