"""Choice rules: values (and state) to logits over options."""

from __future__ import annotations

import jax.numpy as jnp


def softmax(values, beta):
    """Softmax logits ``beta * values``.

    Parameters
    ----------
    values : array, shape (option,)
    beta : float scalar, the inverse temperature

    Returns
    -------
    jax.Array, shape (option,)
    """
    return beta * values


def perseveration(last_choice, kappa, n_options: int):
    """Logit bonus ``kappa`` for repeating the previous choice (none before the first choice).

    Parameters
    ----------
    last_choice : int scalar, -1 when there is none yet
    kappa : float scalar
    n_options : int

    Returns
    -------
    jax.Array, shape (option,)
    """
    return kappa * (jnp.arange(n_options) == last_choice)
