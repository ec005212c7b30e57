"""The orthogonalised go/no-go task (Guitart-Masip et al. 2012): action and valence crossed."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._base import Task

#: The four cues in hBayesDM's coding (as its ``gng_exampleData.txt`` shows them):
#: ``cue: (correct action: 1 go / 0 no-go, valence: +1 win / -1 avoid)``.
GNG_CUES = {
    1: (1, +1),  # go to win
    2: (0, +1),  # no-go to win
    3: (1, -1),  # go to avoid losing
    4: (0, -1),  # no-go to avoid losing
}


def go_nogo(
    n_trials: int = 240,
    *,
    p_correct: float = 0.8,
    seed: int = 0,
    reward: float = 1.0,
    punishment: float = -1.0,
) -> Task:
    """The orthogonalised go/no-go task with probabilistic feedback.

    Four cues, coded as in hBayesDM's example data: 1 go-to-win, 2 no-go-to-win, 3
    go-to-avoid, 4 no-go-to-avoid. On a win cue, the correct action earns ``reward`` with
    probability ``p_correct`` (else 0) and the incorrect one with ``1 - p_correct``; on an
    avoid cue, the correct action avoids ``punishment`` (outcome 0) with probability
    ``p_correct`` and the incorrect one with ``1 - p_correct``. 80/20 is the design of
    Guitart-Masip et al. (2012).

    Parameters
    ----------
    n_trials : int, default 240
        Number of trials (hBayesDM's example data: 240, 60 per cue).
    p_correct : float, default 0.8
        Probability of the favourable outcome after the correct action.
    seed : int, default 0
        Seed of the cue order. The order is balanced (each cue ``n_trials // 4`` times, the
        remainder drawn from the cues in turn) and shuffled once: every simulated participant
        sees the same sequence (``Task.inputs["cue"]``).
    reward, punishment : float, default 1 and -1
        Outcome codes (hBayesDM's example data use 1, 0 and -1).

    Returns
    -------
    Task
        Two options (0 = no-go, 1 = go, as hBayesDM's ``keyPressed`` codes them); input ``cue``
        (float, 1-4, shape (trial,)); feedback ``outcome``.

    References
    ----------
    Guitart-Masip, M., Huys, Q. J. M., Fuentemilla, L., Dayan, P., Duzel, E., & Dolan, R. J.
    (2012). Go and no-go learning in reward and punishment: interactions between affect and
    effect. *NeuroImage*, 62(1), 154-166.
    """
    if not 0.0 <= p_correct <= 1.0:
        raise ValueError(f"go_nogo(): p_correct must be in [0, 1], got {p_correct}")
    n_trials = int(n_trials)
    if n_trials < 1:
        raise ValueError(f"go_nogo(): n_trials must be positive, got {n_trials}")
    codes = np.asarray(sorted(GNG_CUES))
    order = np.random.default_rng(seed).permutation(np.resize(np.arange(len(codes)), n_trials))
    cue = codes[order].astype(float)
    correct_go = jnp.asarray([GNG_CUES[c][0] for c in codes[order]], dtype=jnp.int32)
    win_cue = jnp.asarray([GNG_CUES[c][1] > 0 for c in codes[order]])

    def respond(key, t, choice):
        p_good = jnp.where(choice == correct_go[t], p_correct, 1.0 - p_correct)
        good = jax.random.uniform(key) < p_good
        win = jnp.where(good, reward, 0.0)
        avoid = jnp.where(good, 0.0, punishment)
        return {"outcome": jnp.where(win_cue[t], win, avoid)}

    return Task(
        name="go_nogo",
        n_options=2,
        n_trials=n_trials,
        respond=respond,
        outcome_fields=("outcome",),
        inputs={"cue": cue},
    )
