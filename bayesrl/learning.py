"""Learning rules: pure functions on one participant's value vector.

Reading and writing the chosen entry go through :func:`chosen` and :func:`add_at` (a one-hot
mask) rather than ``values[choice]`` and ``values.at[choice].add``: under ``vmap`` over
participants those become gather and scatter operations with batch dimensions, which XLA's CPU
backend runs with a fixed cost per trial step that dominated small data sets (the example's
20 x 100 gradient took about twice as long; ``benchmarks/bench_gradient.py``). The masked forms
are elementwise, give the same numbers (the unchosen entries are added exactly zero, and the
chosen one is summed with zeros), and cost nothing extra for a handful of options.
"""

from __future__ import annotations

import jax.numpy as jnp


def one_hot(choice, n_options):
    """Boolean mask of ``choice`` among ``n_options`` options, shape (option,) (all False if out of range)."""
    return jnp.arange(n_options) == choice


def chosen(values, choice):
    """``values[choice]`` as a masked sum (elementwise under ``vmap``).

    Parameters
    ----------
    values : array, shape (option,)
    choice : int scalar

    Returns
    -------
    jax.Array, scalar
    """
    return jnp.sum(jnp.where(one_hot(choice, values.shape[-1]), values, 0.0))


def add_at(values, choice, delta):
    """``values.at[choice].add(delta)`` as a masked add (elementwise under ``vmap``).

    Parameters
    ----------
    values : array, shape (option,)
    choice : int scalar
    delta : float scalar

    Returns
    -------
    jax.Array, shape (option,)
    """
    return values + jnp.where(one_hot(choice, values.shape[-1]), delta, 0.0)


def set_at(values, choice, value):
    """``values.at[choice].set(value)`` as a masked select (elementwise under ``vmap``).

    Parameters
    ----------
    values : array, shape (option,)
    choice : int scalar
    value : float scalar

    Returns
    -------
    jax.Array, shape (option,)
    """
    return jnp.where(one_hot(choice, values.shape[-1]), value, values)


def prediction_error(values, choice, outcome):
    """``outcome - values[choice]`` (scalar)."""
    return outcome - chosen(values, choice)


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
    return add_at(values, choice, alpha * prediction_error(values, choice, outcome))


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
    return add_at(values, choice, jnp.where(pe >= 0, alpha_pos, alpha_neg) * pe)
