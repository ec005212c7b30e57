"""The one trial loop: a model's step functions over trials (``lax.scan``) and participants (``vmap``).

Scoring (observed choices fed in) and simulation (choices drawn from the logits) share
:func:`observe` and :func:`learn`, so the logits a simulation emits are exactly those the
likelihood scores.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax


def _select(pred, new, old):
    return jax.tree_util.tree_map(lambda a, b: jnp.where(pred, a, b), new, old)


def observe(model, params, state, trial):
    """Start of a trial: reset the state at a block start, then compute the logits.

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple of scalars
    state : the model's State NamedTuple
    trial : Trial NamedTuple of scalars

    Returns
    -------
    state : State
        The state the choice is made from.
    logits : jax.Array, shape (option,)
    """
    state = _select(trial.block_start, model.init_state(model.n_options, params), state)
    return state, model.policy(state, params, trial)


def learn(model, params, state, trial):
    """End of a trial: apply ``update``, or keep the state when the trial is not valid."""
    return _select(trial.valid, model.update(state, params, trial), state)


def participant_logits(model, params, trials):
    """Logits of one participant's trials, observed choices fed in.

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple of scalars
    trials : Trial NamedTuple, each field shape (trial,)

    Returns
    -------
    jax.Array, shape (trial, option)
    """

    def body(state, trial):
        state, logits = observe(model, params, state, trial)
        return learn(model, params, state, trial), logits

    _, logits = lax.scan(body, model.init_state(model.n_options, params), trials)
    return logits


@functools.partial(jax.jit, static_argnums=0)
def logits(model, params, trials):
    """Logits for every participant and trial (compiled once per model and shape).

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple, each field shape (participant,)
    trials : Trial NamedTuple, each field shape (participant, trial)

    Returns
    -------
    jax.Array, shape (participant, trial, option)
    """
    return jax.vmap(participant_logits, in_axes=(None, 0, 0))(model, params, trials)


def choice_log_prob(logits_, choice, valid):
    """``log softmax(logits)[choice]``, zero where not valid.

    Parameters
    ----------
    logits_ : array, shape (..., option)
    choice : int array, shape (...)
    valid : bool array, shape (...)

    Returns
    -------
    jax.Array, shape (...)
    """
    logp = jax.nn.log_softmax(logits_, axis=-1)
    picked = jnp.take_along_axis(logp, choice[..., None].astype(jnp.int32), axis=-1)[..., 0]
    return jnp.where(valid, picked, 0.0)


def log_likelihood(model, params, trials):
    """Log-probability of each observed choice.

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple, each field shape (participant,)
    trials : Trial NamedTuple, each field shape (participant, trial)

    Returns
    -------
    jax.Array, shape (participant, trial)
        Zero for masked and padded trials.
    """
    return choice_log_prob(logits(model, params, trials), trials.choice, trials.valid)
