"""State types and helpers shared by the library's models."""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp


class QState(NamedTuple):
    """Option values."""

    q: jnp.ndarray  # (option,)


class StickyQState(NamedTuple):
    """Option values and the previous choice (-1 before the first)."""

    q: jnp.ndarray  # (option,)
    last_choice: jnp.ndarray  # () int


def _init_q(initial_value):
    return lambda n, params: QState(jnp.full((n,), initial_value, dtype=jnp.result_type(float)))
