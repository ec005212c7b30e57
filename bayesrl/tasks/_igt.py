"""The Iowa Gambling Task (Bechara et al. 1994): four decks with the standard payoff schedule."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ._base import Task

#: Gain of every card of decks A, B, C, D.
IGT_GAINS = (100.0, 100.0, 50.0, 50.0)

#: Losses on the ten cards of each block of each deck (0 = no loss). Per ten cards: A and B
#: win 1000 and lose 1250 (net -250), C and D win 500 and lose 250 (net +250); A and C lose
#: often (five cards in ten), B and D rarely (one card in ten), as in Bechara et al. (1994).
#: The loss sizes are those that occur in hBayesDM's example data, with C's in the proportions
#: seen there (A: 150-350, B: 1250, C: 25, 50, 50, 50, 75, D: 250).
IGT_LOSSES = (
    (150.0, 200.0, 250.0, 300.0, 350.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    (1250.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    (25.0, 50.0, 50.0, 50.0, 75.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    (250.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
)


def igt_schedule(n_trials: int = 100, *, seed: int = 0, gains=IGT_GAINS, losses=IGT_LOSSES):
    """Gain and loss of the card each deck would give on every trial.

    Each deck's cards come in blocks of ten (its ten ``losses``, each with its ``gain``), every
    block shuffled independently with ``seed``; block ``j`` of a deck fills trials
    ``10 j .. 10 j + 9``.

    Parameters
    ----------
    n_trials : int, default 100
    seed : int, default 0
        NumPy seed of the card order: the same seed gives the same schedule.
    gains : sequence of float, shape (deck,)
        Gain of every card of each deck.
    losses : sequence of sequences of float, shape (deck, card)
        Loss magnitudes (>= 0) of one block of each deck.

    Returns
    -------
    gain, loss : numpy.ndarray, shape (trial, deck)
        ``gain >= 0`` and ``loss <= 0`` (negative, as hBayesDM's example data code losses).
    """
    gains = np.asarray(gains, dtype=float)
    losses = np.asarray(losses, dtype=float)
    if losses.ndim != 2 or gains.shape != (losses.shape[0],) or losses.shape[0] < 2:
        raise ValueError(
            f"igt_schedule(): need one gain per deck and one row of losses per deck (at least 2 decks), got gains "
            f"{gains.shape} and losses {losses.shape}"
        )
    if np.any(losses < 0) or np.any(gains < 0):
        raise ValueError("igt_schedule(): gains and loss magnitudes must be >= 0 (losses are paid as negative)")
    n_trials = int(n_trials)
    if n_trials < 1:
        raise ValueError(f"igt_schedule(): n_trials must be positive, got {n_trials}")
    n_decks, block = losses.shape
    n_blocks = -(-n_trials // block)
    rng = np.random.default_rng(seed)
    loss = np.stack(
        [np.concatenate([rng.permutation(losses[d]) for _ in range(n_blocks)])[:n_trials] for d in range(n_decks)],
        axis=1,
    )
    gain = np.broadcast_to(gains, (n_trials, n_decks)).copy()
    return gain, -loss


def igt(n_trials: int = 100, *, seed: int = 0, gains=IGT_GAINS, losses=IGT_LOSSES) -> Task:
    """The Iowa Gambling Task: four decks, two disadvantageous (A, B) and two advantageous (C, D).

    Every card of decks A and B wins 100 and of C and D wins 50; some cards also lose. Per ten
    cards A and B net -250 and C and D net +250; A and C lose often (five cards in ten: A
    150-350, C 25-75), B and D rarely (one card in ten: B 1250, D 250). These are the
    expected values and loss frequencies of the standard schedule (Bechara et al. 1994), with
    the loss sizes that occur in hBayesDM's example data; the generator (block shuffling,
    seed) is our own.

    The original task fixes the order of the cards *within each deck*, so the payoff depends
    on how many cards that deck has given. A task environment here is a pure function of the
    trial index and the choice (it keeps no count), so the schedule is laid out by trial
    instead: on trial ``t`` deck ``d`` gives card ``t`` of its own sequence, made of blocks of
    its ten cards, each block shuffled. Every deck keeps its gains, its loss sizes and
    frequencies and its net expected value per ten cards; a learner who draws from one deck
    on consecutive trials sees a random selection of its cards rather than their fixed order.

    Parameters
    ----------
    n_trials : int, default 100
        Number of trials (the standard task has 100).
    seed : int, default 0
        Seed of the card order; the schedule is the same for every simulated participant.
    gains : sequence of 4 floats, default (100, 100, 50, 50)
        Gain of every card of decks A-D.
    losses : 4 sequences of floats, default :data:`IGT_LOSSES`
        Loss magnitudes (>= 0) of one block of cards of each deck.

    Returns
    -------
    Task
        Four options (decks A-D, coded 1-4 in data); feedback ``gain`` (>= 0) and ``loss``
        (<= 0), the columns of hBayesDM's ``igt_exampleData.txt``.

    References
    ----------
    Bechara, A., Damasio, A. R., Damasio, H., & Anderson, S. W. (1994). Insensitivity to future
    consequences following damage to human prefrontal cortex. *Cognition*, 50, 7-15.
    """
    gain, loss = igt_schedule(n_trials, seed=seed, gains=gains, losses=losses)
    table_gain, table_loss = jnp.asarray(gain), jnp.asarray(loss)

    def respond(key, t, choice):
        return {"gain": table_gain[t, choice], "loss": table_loss[t, choice]}

    return Task(
        name="igt",
        n_options=gain.shape[1],
        n_trials=gain.shape[0],
        respond=respond,
        outcome_fields=("gain", "loss"),
    )
