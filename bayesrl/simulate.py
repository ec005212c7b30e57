"""Simulation through the same step functions the likelihood uses."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from .engine import learn, observe


def _check_task(model, task):
    if task.n_options != model.n_options:
        raise ValueError(
            f"task {task.name!r} has {task.n_options} options but model {model.name!r} has {model.n_options}"
        )
    missing = [c for c in model.columns if c not in task.provides()]
    if missing:
        raise ValueError(
            f"model {model.name!r} reads trial fields {missing} that task {task.name!r} does not provide "
            f"(it provides {list(task.provides())})"
        )


def simulate_participant(model, params, task, key):
    """Simulate one participant.

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple of scalars
    task : bayesrl.tasks.Task
    key : jax.random key

    Returns
    -------
    trials : Trial NamedTuple, each field shape (trial,)
        What the model saw, including the drawn ``choice`` (0-based) and the feedback.
    logits : jax.Array, shape (trial, option)
        The logits each choice was drawn from.
    """
    n = task.n_trials
    block_start = jnp.zeros(n, bool) if task.block_start is None else jnp.asarray(task.block_start)
    fields = model.trial_type._fields
    inputs = {k: jnp.asarray(v) for k, v in task.inputs.items() if k in fields}
    xs = {"t": jnp.arange(n), "key": jax.random.split(key, n), "block_start": block_start, **inputs}
    zero = jnp.zeros((), jnp.result_type(float))

    def body(state, x):
        k_choice, k_out = jax.random.split(x["key"])
        pre = {f: zero for f in fields}
        pre.update(choice=jnp.zeros((), jnp.int32), valid=jnp.array(True), block_start=x["block_start"])
        pre.update({k: x[k] for k in inputs})
        trial = model.trial_type(**pre)
        state, logit = observe(model, params, state, trial)
        choice = jax.random.categorical(k_choice, logit).astype(jnp.int32)
        feedback = {k: v for k, v in task.respond(k_out, x["t"], choice).items() if k in fields}
        trial = trial._replace(choice=choice, **feedback)
        return learn(model, params, state, trial), (trial, logit)

    _, (trials, logits) = lax.scan(body, model.init_state(model.n_options, params), xs)
    return trials, logits


def simulate_batch(model, params, task, key):
    """Simulate many participants (``vmap`` of :func:`simulate_participant`).

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple, each field shape (participant,)
    task : bayesrl.tasks.Task
    key : jax.random key

    Returns
    -------
    trials : Trial NamedTuple, each field shape (participant, trial)
    logits : jax.Array, shape (participant, trial, option)
    """
    _check_task(model, task)
    n_p = jnp.shape(params[0])[0]
    keys = jax.random.split(key, n_p)
    run = jax.jit(jax.vmap(lambda p, k: simulate_participant(model, p, task, k)))
    return run(params, keys)
