"""Simulation through the same step functions the likelihood uses."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .engine import learn, observe, offered_group, split_params, stage_logits


def _check_task(model, task):
    if model.stages:
        wanted = tuple(s.n_options for s in model.stages)
        if tuple(np.atleast_1d(task.n_options)) != wanted:
            raise ValueError(
                f"task {task.name!r} has {task.n_options} options but model {model.name!r} makes "
                f"{len(wanted)} choices per trial with {wanted} options"
            )
        grouped = [s.column for s in model.stages if s.groups is not None]
        if grouped and task.offer is None:
            raise ValueError(
                f"model {model.name!r} chooses among offered groups of options at {grouped}, but task "
                f"{task.name!r} does not say which group it offers (Task.offer)"
            )
    elif task.n_options != model.n_options:
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
    return simulate_schedule(
        model, params, key, block_start=block_start, inputs=inputs, respond=task.respond, offer=task.offer
    )


def _draw_stages(model, params, state, trial, logits_, key, t, offer):
    """Draw a staged model's choices in order: stage ``k``'s logits see the choices drawn before it.

    Returns the trial with its ``choice`` vector filled in and the scored logits ``(stage, option)``.
    """
    choice = jnp.zeros((len(model.stages),), jnp.int32)
    rows = []
    for k, stage in enumerate(model.stages):
        k_offer, k_draw = jax.random.split(jax.random.fold_in(key, k))
        if k > 0:
            logits_ = model.policy(state, params, trial)
        group = None if stage.groups is None else jnp.asarray(offer(k_offer, t, k, choice), jnp.int32)
        row = stage_logits(model, k, logits_[k], group)
        choice = choice.at[k].set(jax.random.categorical(k_draw, row).astype(jnp.int32))
        trial = trial._replace(choice=choice)
        rows.append(row)
    return trial, jnp.stack(rows)


def simulate_schedule(model, params, key, *, block_start, inputs, respond=None, valid=None, offer=None):
    """Simulate one participant over a schedule of trials: choices drawn from the logits.

    The scan body is :func:`bayesrl.engine.observe`, a categorical draw from the logits, the
    feedback, then :func:`bayesrl.engine.learn`: the steps the likelihood scores.

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple of scalars (a field may hold a value per trial, shape (trial,),
        as in :func:`bayesrl.engine.scan_trials`)
    key : jax.random key
    block_start : bool array, shape (trial,)
    inputs : dict of str to array, each shape (trial,)
        Trial fields fixed in advance (not depending on the choice).
    respond : callable, optional
        ``respond(key, t, choice) -> {field: scalar}``: the feedback to the drawn choice (a
        task's ``respond``; ``choice`` is the vector of every stage's choice for a staged
        model); None when every field the model reads is in ``inputs``.
    valid : bool array, shape (trial,), optional
        Trials on which a choice is made; the others draw a choice that changes nothing (the
        state is kept, as for a masked trial in the data). Default: every trial.

    Returns
    -------
    trials : Trial NamedTuple, each field shape (trial,)
    logits : jax.Array, shape (trial, option)
    """
    n = block_start.shape[0]
    fields = model.trial_type._fields
    xs = {"t": jnp.arange(n), "key": jax.random.split(key, n), "block_start": block_start, **inputs}
    xs["valid"] = jnp.ones(n, bool) if valid is None else valid
    zero = jnp.zeros((), jnp.result_type(float))
    first, per_trial = split_params(params)
    xs["params"] = per_trial

    def body(state, x):
        params = first._replace(**x["params"])
        k_choice, k_out = jax.random.split(x["key"])
        pre = {f: zero for f in fields}
        pre.update(choice=jnp.zeros((model.n_stages,) if model.stages else (), jnp.int32))
        pre.update(valid=x["valid"], block_start=x["block_start"])
        pre.update({k: x[k] for k in inputs})
        trial = model.trial_type(**pre)
        state, logit = observe(model, params, state, trial)
        if model.stages:
            trial, logit = _draw_stages(model, params, state, trial, logit, k_choice, x["t"], offer)
        else:
            trial = trial._replace(choice=jax.random.categorical(k_choice, logit).astype(jnp.int32))
        feedback = {} if respond is None else respond(k_out, x["t"], trial.choice)
        trial = trial._replace(**{k: v for k, v in feedback.items() if k in fields})
        return learn(model, params, state, trial), (trial, logit)

    _, (trials, logits) = lax.scan(body, model.init_state(model.n_options, first), xs)
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


def replay_batch(model, params, trials, key):
    """Simulate choices over each participant's observed schedule of choice-independent inputs.

    Only honest when nothing the model reads depends on the choice: every column of the model
    must be one of its ``inputs`` (a cue, the pair offered, outcomes shown for every option).

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple, each field shape (participant,) or (participant, trial)
    trials : Trial NamedTuple, each field shape (participant, trial)
        The observed trials; their ``valid`` and ``block_start`` are kept and the model's
        input columns replayed.
    key : jax.random key

    Returns
    -------
    trials : Trial NamedTuple, each field shape (participant, trial)
        ``choice`` drawn (meaningless where ``valid`` is False).
    logits : jax.Array, shape (participant, trial, option)

    Raises
    ------
    ValueError
        When a column of the model is feedback to the choice (not in ``model.inputs``).
    """
    feedback = [c for c in model.columns if c not in model.inputs]
    if feedback:
        raise ValueError(
            f"cannot replay the observed schedule for model {model.name!r}: its columns {feedback} are "
            "feedback to the choice, and what a simulated choice that differs from the observed one "
            "would have earned is unknown; simulate with a task instead"
        )
    n_p = jnp.shape(params[0])[0]
    keys = jax.random.split(key, n_p)

    def one(p, t, k):
        inputs = {c: getattr(t, c) for c in model.inputs}

        def offer(key, i, stage, choice):  # the group the observed choice was made in
            return offered_group(model, stage, t.choice[i, stage])

        return simulate_schedule(model, p, k, block_start=t.block_start, inputs=inputs, valid=t.valid, offer=offer)

    return jax.jit(jax.vmap(one))(params, trials, keys)
