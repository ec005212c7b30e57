"""Learning rules: pure functions on one participant's value vector."""

from __future__ import annotations

import jax.numpy as jnp


def prediction_error(values, choice, outcome):
    """``outcome - values[choice]`` (scalar)."""
    return outcome - values[choice]


def delta_rule(values, choice, outcome, alpha):
    """Rescorla-Wagner update of the chosen option.

    Parameters
    ----------
    values : array, shape (option,)
    choice : int scalar
    outcome : float scalar
    alpha : float scalar in [0, 1]

    Returns
    -------
    jax.Array, shape (option,)
        ``values[choice] += alpha * (outcome - values[choice])``.
    """
    return values.at[choice].add(alpha * prediction_error(values, choice, outcome))


def asymmetric_delta_rule(values, choice, outcome, alpha_pos, alpha_neg):
    """Delta rule with separate rates for positive and negative prediction errors.

    Parameters
    ----------
    values : array, shape (option,)
    choice : int scalar
    outcome : float scalar
    alpha_pos, alpha_neg : float scalars in [0, 1]

    Returns
    -------
    jax.Array, shape (option,)
    """
    pe = prediction_error(values, choice, outcome)
    return values.at[choice].add(jnp.where(pe >= 0, alpha_pos, alpha_neg) * pe)
