"""Trial-wise latents and posterior predictive simulations of a fit, through the shared step functions.

:func:`latent_table` replays each participant's observed trials with
:func:`bayesrl.engine.latents` (the likelihood's own loop, emitting the state, logits and the
model's latents); :func:`one_step` does the same with :func:`bayesrl.engine.logits`;
:func:`generative` simulates whole sessions with :func:`bayesrl.simulate.simulate_batch` (a
task environment) or :func:`bayesrl.simulate.replay_batch` (the observed schedule, when the
model reads nothing that depends on the choice). :class:`bayesrl.Fit` exposes them as
:meth:`~bayesrl.Fit.latents` and :meth:`~bayesrl.Fit.posterior_predictive`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import xarray as xr

from . import engine
from .design import trial_values
from .simulate import replay_batch, simulate_batch

#: Columns of :func:`latent_table` that are not latents.
INDEX_COLUMNS = ("participant", "trial", "block", "row", "masked", "choice")


def require_model(fit):
    """The fit's model, or an error saying how to attach one."""
    if fit.model is None:
        raise ValueError(
            "this fit has no model attached (a custom model loaded from a file); open it with "
            "brl.load_fit(path, model=your_model)"
        )
    return fit.model


def _check_num_draws(num_draws):
    if num_draws is None:
        return None
    if isinstance(num_draws, bool) or int(num_draws) != num_draws or num_draws < 1:
        raise ValueError(f"num_draws must be a positive integer or None (every draw), got {num_draws!r}")
    return int(num_draws)


def draw_subset(n_chains: int, n_draws: int, num_draws, seed: int) -> np.ndarray:
    """Indices of the draws kept in every chain: ``num_draws // n_chains`` of them (at least one).

    Parameters
    ----------
    n_chains, n_draws : int
        Chains and draws per chain of the posterior.
    num_draws : int or None
        Total draws wanted over all chains; None keeps every draw.
    seed : int
        Seed of the (sorted, without replacement) random choice.

    Returns
    -------
    numpy.ndarray of int, shape (kept,)
        The same draw indices are used in each chain, so the result keeps ``chain`` and ``draw``
        dimensions with the posterior's own draw coordinates.
    """
    num_draws = _check_num_draws(num_draws)
    if num_draws is None:
        return np.arange(n_draws)
    per_chain = max(1, num_draws // n_chains)
    if per_chain >= n_draws:
        return np.arange(n_draws)
    return np.sort(np.random.default_rng(seed).choice(n_draws, size=per_chain, replace=False))


def participant_draws(fit, num_draws, seed):
    """Each parameter's kept posterior draws.

    Returns
    -------
    draws : dict of str to numpy.ndarray, each shape (chain, kept, participant)
        Natural scale; (chain, kept, participant, condition) for a parameter with conditions
        (give it each trial's value with :func:`bayesrl.design.trial_values`).
    chains, draw_index : numpy.ndarray
        The ``chain`` and ``draw`` coordinates of the kept draws.
    """
    post = fit.posterior
    first = post[fit.param_names[0]]
    n_chains, n_draws = first.sizes["chain"], first.sizes["draw"]
    keep = draw_subset(n_chains, n_draws, num_draws, seed)
    draws = {
        p: np.asarray(post[p].transpose("chain", "draw", "participant", ...).values)[:, keep] for p in fit.param_names
    }
    return draws, np.asarray(post["chain"].values), np.asarray(post["draw"].values)[keep]


def _map_mean(fn, flat: dict, batch_size: int):
    """Mean over draws of ``fn(params)`` (a pytree), holding ``batch_size`` draws' outputs at once.

    ``flat`` maps parameter names to arrays of shape (draw, participant).
    """
    n = next(iter(flat.values())).shape[0]
    n_batches = -(-n // batch_size)
    pad = n_batches * batch_size - n
    weights = jnp.concatenate([jnp.ones(n), jnp.zeros(pad)]).reshape(n_batches, batch_size)
    stacked = {
        k: jnp.concatenate([v, jnp.repeat(v[:1], pad, axis=0)]).reshape((n_batches, batch_size) + v.shape[1:])
        for k, v in flat.items()
    }

    def step(total, chunk):
        params, w = chunk
        out = jax.vmap(fn)(params)

        def add(acc, x):
            wb = w.reshape((batch_size,) + (1,) * (x.ndim - 1))
            return acc + jnp.where(wb > 0, x.astype(acc.dtype), 0).sum(axis=0)

        return jax.tree_util.tree_map(add, total, out), None

    template = jax.eval_shape(fn, {k: v[0] for k, v in flat.items()})
    zeros = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, jnp.result_type(s.dtype, float)), template)
    total, _ = jax.lax.scan(step, zeros, (stacked, weights))
    return jax.tree_util.tree_map(lambda x: x / n, total)


def _path_parts(path) -> tuple[str, ...]:
    parts = []
    for key in path:
        for attr in ("name", "key", "idx"):
            if hasattr(key, attr):
                parts.append(str(getattr(key, attr)))
                break
    return tuple(parts)


def _state_columns(states, n_options: int, choice_base: int) -> dict:
    """Flatten a State of (participant, trial, ...) arrays into named (participant, trial) columns.

    A field of shape (option,) is labelled in the data's choice coding (``q_1``, ``q_2`` for
    choices coded 1..K); other vectors by position from 1 (``q_1`` ... ``q_6`` for six stimuli);
    matrices ``name_i_j``. A variant's wrapper field ``base`` is left out of the names
    (``q_1``, not ``base_q_1``) unless that makes two names equal.
    """
    flat, _ = jax.tree_util.tree_flatten_with_path(states)
    paths = [_path_parts(path) or ("state",) for path, _ in flat]
    short = [tuple(p for p in path if p != "base") or path for path in paths]
    names = ["_".join(p) for p in (short if len(set(short)) == len(short) else paths)]
    out = {}
    for name, (_, value) in zip(names, flat, strict=True):
        value = np.asarray(value)
        extra = value.shape[2:]
        if not extra:
            out[name] = value
            continue
        base = choice_base if extra == (n_options,) else 1
        for idx in np.ndindex(*extra):
            label = "_".join(str(i + base) for i in idx)
            out[f"{name}_{label}"] = value[(slice(None), slice(None), *idx)]
    return out


def _stage_arrays(model, array):
    """``{choice column: array[..., k]}`` for a staged model's arrays with a stage axis, else ``{"choice": array}``."""
    if not model.stages:
        return {"choice": array}
    return {col: array[:, :, k] for k, col in enumerate(model.choice_columns)}


def _trial_index_columns(fit, model) -> dict:
    data = fit.data
    real = data.row_index >= 0
    n_p, n_t = real.shape
    valid = data.arrays["valid"]
    cols = {
        "participant": np.repeat(data.participants[:, None], n_t, axis=1),
        "trial": np.broadcast_to(np.arange(n_t), (n_p, n_t)),
        "block": np.cumsum(data.arrays["block_start"], axis=1),
        "row": data.row_index,
        "masked": real & ~valid,
    }
    for name, choice in _stage_arrays(model, data.arrays["choice"]).items():
        cols[name] = np.where(valid, choice + data.choice_base, -1)
    return cols


def _prob_columns(model, probs, choice, valid, base) -> dict:
    """``prob_<option>`` and ``prob_chosen``; per stage (``prob_<column>_<option>``...) for a staged model."""
    out = {}
    sizes = [s.n_options for s in model.stages] or [probs.shape[-1]]
    stages = zip(_stage_arrays(model, probs).items(), _stage_arrays(model, choice).values(), sizes, strict=True)
    for (name, p), c, k in stages:
        prefix = "prob_" if name == "choice" else f"prob_{name}_"
        out.update({f"{prefix}{o + base}": p[..., o] for o in range(k)})
        chosen = np.take_along_axis(p, c[..., None].astype(int), axis=-1)[..., 0]
        out["prob_chosen" if name == "choice" else f"prob_chosen_{name}"] = np.where(valid, chosen, np.nan)
    return out


def latent_table(fit, at: str = "mean", *, num_draws=200, seed: int = 0, batch_size: int = 16) -> pd.DataFrame:
    """Trial-wise latents, one row per row of the fitted table (see :meth:`bayesrl.Fit.latents`)."""
    model = require_model(fit)
    if at not in ("mean", "draws"):
        raise ValueError(f"at must be 'mean' (posterior-mean parameters) or 'draws' (averaged over draws), got {at!r}")
    data = fit.data
    trials = data.trials(model)
    k, base = data.n_options, data.choice_base

    conditions = fit.condition_index()

    def compute(values):
        params = model.make_params(trial_values(values, conditions))
        states, logits, extra = engine.latents(model, params, trials)
        probs = jax.nn.softmax(logits, axis=-1)
        return states, probs, extra

    if at == "mean":
        post = fit.posterior
        values = {
            p: jnp.asarray(post[p].mean(("chain", "draw")).transpose("participant", ...).values)
            for p in model.param_names
        }
        states, probs, extra = jax.jit(compute)(values)
    else:
        draws, _, _ = participant_draws(fit, num_draws, seed)
        flat = {p: jnp.asarray(v.reshape((-1,) + v.shape[2:])) for p, v in draws.items()}
        states, probs, extra = jax.jit(lambda f: _map_mean(compute, f, batch_size))(flat)

    valid = data.arrays["valid"]
    probs = np.asarray(probs)
    probs = np.where(valid.reshape(valid.shape + (1,) * (probs.ndim - 2)), probs, np.nan)
    cols = _trial_index_columns(fit, model)
    state_cols = _state_columns(states, k, base)
    prob_cols = _prob_columns(model, probs, data.arrays["choice"], valid, base)
    extra = {name: np.asarray(v) for name, v in extra.items()}
    for group in (state_cols, prob_cols, extra):
        clash = sorted(set(group) & set(cols))
        if clash:
            raise ValueError(
                f"model {model.name!r} names latents or state fields {clash}, which are reserved column names "
                f"({list(cols)}); rename them"
            )
        cols.update(group)
    real = data.row_index >= 0
    order = np.argsort(data.row_index[real], kind="stable")
    frame = pd.DataFrame({name: np.asarray(v)[real][order] for name, v in cols.items()})
    for name in model.choice_columns:
        frame[name] = pd.array(np.where(frame["masked"], pd.NA, frame[name]), dtype="Int64")
    return frame


def _coords(fit, chains, draws, n_trials):
    coords = {
        "chain": chains,
        "draw": draws,
        "participant": fit.data.participants,
        "trial": np.arange(n_trials),
        "option": np.arange(fit.data.n_options),
    }
    if fit.model.stages:
        coords["stage"] = list(fit.model.choice_columns)
    return coords


def _dims(model):
    """Dims of ``choice`` and of ``choice_prob``: a ``stage`` axis for a staged model."""
    dims = ("chain", "draw", "participant", "trial", *(("stage",) if model.stages else ()))
    return dims, (*dims, "option")


def _per_stage(model, valid):
    """``valid`` (..., trial) with a trailing axis per stage for a staged model."""
    return valid[..., None] if model.stages else valid


def _draw_keys(seed: int, n: int):
    return jax.random.split(jax.random.PRNGKey(int(seed)), n)


def one_step(fit, *, num_draws=200, seed: int = 0, batch_size: int = 16) -> xr.Dataset:
    """One-step-ahead posterior predictive: probabilities given each participant's observed history.

    Returns
    -------
    xarray.Dataset
        ``choice_prob`` (chain, draw, participant, trial, option) and ``choice`` (chain, draw,
        participant, trial), see :meth:`bayesrl.Fit.posterior_predictive`.
    """
    model = require_model(fit)
    data = fit.data
    trials = data.trials(model)
    draws, chains, draw_index = participant_draws(fit, num_draws, seed)
    n_c, n_d = draws[model.param_names[0]].shape[:2]
    flat = {p: jnp.asarray(v.reshape((-1,) + v.shape[2:])) for p, v in draws.items()}
    keys = _draw_keys(seed, n_c * n_d)
    conditions = fit.condition_index()

    @jax.jit
    def run(flat, keys):
        def one(args):
            values, key = args
            logits = engine.logits(model, model.make_params(trial_values(values, conditions)), trials)
            return jax.nn.softmax(logits, axis=-1), jax.random.categorical(key, logits).astype(jnp.int32)

        return jax.lax.map(one, (flat, keys), batch_size=batch_size)

    probs, choice = (np.asarray(x) for x in run(flat, keys))
    valid = _per_stage(model, data.arrays["valid"])
    probs = np.where(valid[..., None], probs, np.nan).reshape((n_c, n_d) + probs.shape[1:])
    choice = np.where(valid, choice, -1).reshape((n_c, n_d) + choice.shape[1:])
    dims, prob_dims = _dims(model)
    return xr.Dataset(
        {"choice": (dims, choice), "choice_prob": (prob_dims, probs)},
        coords=_coords(fit, chains, draw_index, data.max_trials),
        attrs={"mode": "one_step", "num_draws": n_c * n_d, "seed": int(seed)},
    )


def task_conditions(fit, condition, n_trials: int) -> dict:
    """Each simulated trial's condition, per parameter with conditions, for a generative run with a task.

    Parameters
    ----------
    fit : bayesrl.Fit
    condition : level, sequence of levels, or dict
        A level of the condition column (every trial), a sequence of ``n_trials`` levels (one
        per trial), or ``{column: level or sequence}`` when parameters use different columns.
    n_trials : int

    Returns
    -------
    dict of str to int numpy.ndarray, each shape (participant, trial)
        Index into each parameter's ``condition_levels``, the same for every participant.

    Raises
    ------
    ValueError
        When ``condition`` is missing, names an unknown column or level, or has the wrong length.
    """
    from .data import _py
    from .effects import _match

    params = {p: d for p, d in fit.design.params.items() if d.condition}
    columns = sorted({d.condition for d in params.values()})
    if condition is None:
        raise ValueError(
            f"parameters {sorted(params)} take a value per condition (column(s) {columns}), and a task has no "
            f"condition column: give condition= (a level, one level per trial, or {{column: ...}}), e.g. "
            f"condition={_py(params[next(iter(params))].condition_levels[0])!r}"
        )
    if isinstance(condition, dict):
        unknown = sorted(set(condition) - set(columns))
        missing = sorted(set(columns) - set(condition))
        if unknown or missing:
            raise ValueError(f"condition= must give the column(s) {columns}; missing {missing}, unknown {unknown}")
        by_column = condition
    else:
        if len(columns) > 1:
            raise ValueError(f"parameters use several condition columns {columns}: give condition={{column: ...}}")
        by_column = {columns[0]: condition}
    out = {}
    n_p = fit.data.n_participants
    for p, d in params.items():
        value = by_column[d.condition]
        if isinstance(value, (str, bytes)) or np.ndim(value) == 0:
            value = [value] * n_trials
        value = list(value)
        if len(value) != n_trials:
            raise ValueError(
                f"condition= for column {d.condition!r} has {len(value)} levels; the task has {n_trials} trials"
            )
        levels = list(d.condition_levels)
        idx = np.asarray([levels.index(_match(v, levels, f"condition= ({d.condition!r})")) for v in value], np.int32)
        out[p] = np.broadcast_to(idx, (n_p, n_trials))
    return out


def generative(fit, *, num_draws=200, seed: int = 0, task=None, condition=None, batch_size: int = 16) -> xr.Dataset:
    """Whole simulated sessions from posterior draws (see :meth:`bayesrl.Fit.posterior_predictive`).

    Returns
    -------
    xarray.Dataset
        ``choice`` (chain, draw, participant, trial), ``choice_prob`` (..., option) and, with a
        task, the model's columns as the simulation produced them.
    """
    model = require_model(fit)
    data = fit.data
    draws, chains, draw_index = participant_draws(fit, num_draws, seed)
    n_c, n_d = draws[model.param_names[0]].shape[:2]
    flat = {p: jnp.asarray(v.reshape((-1,) + v.shape[2:])) for p, v in draws.items()}
    keys = _draw_keys(seed, n_c * n_d)
    conditions = fit.condition_index()
    if condition is not None and (task is None or not conditions):
        raise ValueError(
            "condition= sets the conditions of a generative simulation with a task, for a fit with conditions= "
            + ("(without a task the observed conditions are replayed)" if task is None else "(this fit has none)")
        )
    if task is not None and conditions:
        conditions = task_conditions(fit, condition, task.n_trials)
    if task is None:
        feedback = [c for c in model.columns if c not in model.inputs]
        if feedback:
            raise ValueError(
                f"generative simulation of {model.name!r} needs a task: its columns {feedback} are feedback to "
                "the choice (e.g. the outcome of the chosen option), and the data cannot say what a simulated "
                "choice that differs from the observed one would have earned (in a bandit the unchosen arm's "
                "outcome is never seen). Pass task=brl.tasks.bandit(...) or another brl.tasks environment; "
                "mode='one_step' predicts each observed choice from the participant's own history instead"
            )
        trials = data.trials(model)

        def simulate(values, key):
            return replay_batch(model, model.make_params(trial_values(values, conditions)), trials, key)

        n_trials = data.max_trials
        valid = data.arrays["valid"]
        fields = ()
    else:

        def simulate(values, key):
            return simulate_batch(model, model.make_params(trial_values(values, conditions)), task, key)

        n_trials = task.n_trials
        valid = np.ones((data.n_participants, n_trials), bool)
        fields = tuple(c for c in model.columns if c in task.provides())

    @jax.jit
    def run(flat, keys):
        def one(args):
            values, key = args
            sim, logits = simulate(values, key)
            return sim, jax.nn.softmax(logits, axis=-1)

        return jax.lax.map(one, (flat, keys), batch_size=batch_size)

    sim, probs = run(flat, keys)
    shape = (n_c, n_d, data.n_participants, n_trials)
    dims, prob_dims = _dims(model)
    stage_shape = shape + ((model.n_stages,) if model.stages else ())
    valid = _per_stage(model, valid)
    choice = np.where(valid, np.asarray(sim.choice), -1).reshape(stage_shape)
    probs = np.where(valid[..., None], np.asarray(probs), np.nan).reshape((*stage_shape, data.n_options))
    out = {"choice": (dims, choice), "choice_prob": (prob_dims, probs)}
    for name in fields:
        out[name] = (dims[:4], np.asarray(getattr(sim, name)).reshape(shape))
    attrs = {"mode": "generative", "num_draws": n_c * n_d, "seed": int(seed)}
    attrs["schedule"] = "observed" if task is None else f"task {task.name}"
    if task is not None and conditions:
        attrs["conditions"] = str(condition)
    return xr.Dataset(out, coords=_coords(fit, chains, draw_index, n_trials), attrs=attrs)
