"""The one trial loop: a model's step functions over trials (``lax.scan``) and participants (``vmap``).

Scoring (observed choices fed in) and simulation (choices drawn from the logits) share
:func:`observe` and :func:`learn`, so the logits a simulation emits are exactly those the
likelihood scores.

A model with several choices per trial (``Model.stages``) returns one logit vector per stage;
:func:`score_logits` turns them into one array ``(stage, option)`` of logits, the options not
offered on that trial and the padding to the widest stage set to :data:`NOT_OFFERED`
(probability 0 under a softmax over ``option``), so everything downstream (likelihood, observe
site, predictive checks) sees an extra ``stage`` axis and nothing else. They are left
unnormalised: every consumer normalises (the likelihood's ``Categorical``, :func:`choice_log_prob`,
a softmax), and normalising here as well made the two-step model's gradient 11-23% slower
(``benchmarks/README.md``). Models without stages keep
their logits ``(option,)`` as they are.

Per-trial parameter values: a field of ``params`` is normally one scalar per participant, but
it may instead carry a trial axis (shape ``(trial,)`` for one participant, ``(participant,
trial)`` batched). The loop then scans that field along with the trials (:func:`split_params`),
so ``init_state``, ``policy``, ``update`` and ``latents`` still see one scalar per parameter: on
each trial, the value of that trial. Within-participant conditions (``brl.fit(...,
conditions={"alpha": "condition"})``) use this: the parameter's value on a trial is the
participant's value for that trial's condition.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

#: Log-probability given to options not offered and to padding: finite (NumPyro's Categorical
#: accepts only real logits), yet exp() of it is exactly 0.
NOT_OFFERED = -1e30

#: The most options :func:`chosen_log_softmax` scores option by option. XLA's CPU backend runs a
#: reduction over a short last axis (``log_softmax``'s max and sum, the gather of the chosen
#: entry) slowly; taking the options as separate slices makes the whole score elementwise.
#: Gradient of the score alone, 2-core CPU, float32 (``benchmarks/bench_scoring.py``;
#: ``benchmarks/README.md``, "Scoring option by option"): 200 x 200 x 2 options 228 against 1000
#: us (jax 0.12, ``log_softmax``) and 338 against 775 us (jax 0.10, NumPyro's form); up to 5
#: options 0.22-0.81x the faster of those two; at 6 options a tie or slower, at 8 and 16 slower
#: (up to 10x).
UNROLL_OPTIONS = 5


def _select(pred, new, old):
    return jax.tree_util.tree_map(lambda a, b: jnp.where(pred, a, b), new, old)


def stage_logits(model, k, logits_, group=None):
    """Stage ``k``'s logits with only option ``group`` offered, padded to ``model.n_options``.

    Parameters
    ----------
    model : bayesrl.Model
        A model with ``stages``.
    k : int
        The stage (static).
    logits_ : jax.Array, shape (stage_options,)
        The stage's logits, as ``policy`` returns them.
    group : int scalar, optional
        The option group offered (``Stage.groups``); None when the stage has no groups.

    Returns
    -------
    jax.Array, shape (option,)
        ``logits_`` where the option is offered; :data:`NOT_OFFERED` (-1e30: probability exactly
        0 under a softmax) for options not offered and for padding. Not normalised:
        ``jax.nn.softmax`` of it gives the stage's choice probabilities.
    """
    stage = model.stages[k]
    logits_ = jnp.asarray(logits_)
    if logits_.shape != (stage.n_options,):
        raise ValueError(
            f"policy of model {model.name!r} returned logits of shape {logits_.shape} for stage {k} "
            f"({stage.column!r}), which has {stage.n_options} options"
        )
    if stage.groups is not None:
        logits_ = jnp.where(jnp.asarray(stage.groups) == group, logits_, NOT_OFFERED)
    pad = model.n_options - stage.n_options
    return jnp.concatenate([logits_, jnp.full((pad,), NOT_OFFERED, logits_.dtype)]) if pad else logits_


def offered_group(model, k, choice):
    """The option group of stage ``k`` that holds ``choice`` (None for a stage without groups)."""
    groups = model.stages[k].groups
    return None if groups is None else jnp.asarray(groups)[choice]


def score_logits(model, logits_, trial):
    """The logits the likelihood scores: as ``policy`` returns them, or per stage for a staged model.

    Parameters
    ----------
    model : bayesrl.Model
    logits_ : jax.Array, shape (option,), or tuple of per-stage logits
        ``policy``'s output.
    trial : Trial NamedTuple of scalars
        Its ``choice`` (shape (stage,) for a staged model) says which group each stage offered.

    Returns
    -------
    jax.Array, shape (option,) or (stage, option)
        Unchanged without stages; else :func:`stage_logits` of every stage, the offered group
        being the one the observed choice belongs to.
    """
    if not model.stages:
        return logits_
    if not isinstance(logits_, (tuple, list)) or len(logits_) != len(model.stages):
        raise ValueError(
            f"policy of model {model.name!r} must return a tuple of {len(model.stages)} logit vectors, one per "
            f"stage {list(model.choice_columns)}"
        )
    return jnp.stack(
        [stage_logits(model, k, lg, offered_group(model, k, trial.choice[k])) for k, lg in enumerate(logits_)]
    )


def observed_choices(model, trials):
    """The observed choices and where they count, with a trailing stage axis for a staged model.

    Parameters
    ----------
    model : bayesrl.Model
    trials : Trial NamedTuple, each field shape (..., trial)

    Returns
    -------
    choice : int array, shape (..., trial) or (..., trial, stage)
    valid : bool array, the same shape
        ``trials.valid``, repeated over stages.
    """
    if not model.stages:
        return trials.choice, trials.valid
    return trials.choice, jnp.broadcast_to(trials.valid[..., None], trials.choice.shape)


def reset(model, params, state, trial):
    """The state a trial starts from: ``init_state`` at a block start, else ``state``."""
    return _select(trial.block_start, model.init_state(model.n_options, params), state)


def starts_blocks(trials):
    """Whether any trial starts a block: the static ``resets`` flag of :func:`scan_trials`.

    Parameters
    ----------
    trials : Trial NamedTuple, ``block_start`` of any shape, e.g. (participant, trial)

    Returns
    -------
    bool
        Read on the host (``trials`` must be concrete, not traced).
    """
    return bool(np.asarray(trials.block_start).any())


def has_gaps(trials):
    """Whether a valid trial follows one that is not valid: the static ``gaps`` flag of :func:`scan_trials`.

    Padding after a participant's last trial is not a gap; a missed response (a masked trial)
    followed by more trials is.

    Parameters
    ----------
    trials : Trial NamedTuple, ``valid`` of shape (..., trial), e.g. (participant, trial)

    Returns
    -------
    bool
        Read on the host (``trials`` must be concrete, not traced).
    """
    valid = np.asarray(trials.valid)
    return bool((valid[..., 1:] & ~valid[..., :-1]).any())


def observe(model, params, state, trial, resets=True):
    """Start of a trial: reset the state at a block start, then compute the logits.

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple of scalars
    state : the model's State NamedTuple
    trial : Trial NamedTuple of scalars
    resets : bool, default True
        False leaves the reset out: for data where no trial starts a block
        (``block_start`` all False), where it is the identity (see :func:`scan_trials`).

    Returns
    -------
    state : State
        The state the choice is made from.
    logits : jax.Array, shape (option,), or a tuple of per-stage logits
        ``policy``'s output (see :func:`score_logits`).
    """
    if resets:
        state = reset(model, params, state, trial)
    return state, model.policy(state, params, trial)


def learn(model, params, state, trial, gaps=True):
    """End of a trial: apply ``update``, or keep the state when the trial is not valid.

    ``gaps=False`` applies ``update`` on every trial (see :func:`scan_trials`).
    """
    new = model.update(state, params, trial)
    return _select(trial.valid, new, state) if gaps else new


def split_params(params):
    """Separate one participant's per-trial parameter fields from the scalar ones.

    Parameters
    ----------
    params : Params NamedTuple
        Each field a scalar, or an array of shape (trial,) (a value per trial).

    Returns
    -------
    first : Params NamedTuple of scalars
        ``params`` with each per-trial field replaced by its first trial's value (what the
        state before the first trial is initialised with).
    per_trial : dict of str to jax.Array, each shape (trial,)
        The per-trial fields, to be scanned along with the trials; merge one trial's values
        back with ``params._replace(**values)``.

    Raises
    ------
    ValueError
        For a field with more than one axis.
    """
    per_trial = {}
    for name, value in zip(params._fields, params, strict=True):
        ndim = jnp.ndim(value)
        if ndim > 1:
            raise ValueError(
                f"parameter {name!r} has shape {jnp.shape(value)} for one participant; a parameter is a scalar "
                "or, with a value per trial, of shape (trial,)"
            )
        if ndim == 1:
            per_trial[name] = value
    return params._replace(**{k: v[0] for k, v in per_trial.items()}), per_trial


def scan_trials(model, params, trials, emit=None, resets=True, gaps=True, scored=True):
    """The trial loop: :func:`observe` then :func:`learn` over one participant's trials, observed choices fed in.

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple
        Scalars, or for a parameter with a value per trial an array of shape (trial,), scanned
        along with the trials (see the module docstring).
    trials : Trial NamedTuple, each field shape (trial,)
    emit : callable, optional
        ``emit(state, trial, next_state, params) -> pytree``: what else to keep of each trial,
        from the state the choice was made from, the trial, the state after it and the trial's
        parameters (scalars).
    resets : bool, default True
        Whether any trial may start a block. False (a static promise that ``trials.block_start``
        is all False, :func:`starts_blocks`) drops the per-trial reset, a select over the whole
        state forward and backward, from the loop: the gradient of ``bandit2arm_delta`` at
        200 x 200 went from 61 to 30 ns per trial (``benchmarks/README.md``). Wrong results if
        the promise is broken.
    gaps : bool, default True
        Whether a trial that is not valid may come before a valid one (a missed response
        mid-session). False (a static promise that the only invalid trials are the padding
        after each participant's last trial, :func:`has_gaps`) lets ``update`` run on the
        padding like on any trial instead of keeping the state there: nothing after the
        padding is scored, so the scored logits are unchanged, and the select over the whole
        state at every trial leaves the loop (the gradient of ``bandit2arm_delta`` 7-10% faster
        at 200-5000 participants x 200 trials, ``benchmarks/README.md``). The padding's inputs
        are zeros, so ``update`` and ``policy`` must stay finite on them (they must already,
        for a finite gradient: a select does not stop a non-finite derivative). Wrong results
        if the promise is broken.
    scored : bool, default True
        False returns ``policy``'s output as it is (a staged model's: one array per stage,
        ``(trial, stage_options)``), what :func:`chosen_log_probs` scores.

    Returns
    -------
    logits : jax.Array, shape (trial, option), or (trial, stage, option) for a staged model
        :func:`score_logits` of each trial's ``policy`` output (``scored=False``: the output itself).
    emitted : pytree
        ``emit``'s output with a leading ``trial`` axis (None without ``emit``).

    Notes
    -----
    Only what depends on the carried state runs in the sequential loop: ``policy``, ``update``
    and ``emit``. A staged model's scoring (masking the options not offered, padding each
    stage) depends on the trial alone, so it runs on all trials at once after the loop; inside
    the loop it made the gradient of the two-step model's fit 6-14% slower (2122 against 2000 us
    per step of 4 chains on hBayesDM's example, ``benchmarks/README.md``). A model with
    ``trial_loop="associative"`` runs :func:`associative_scan_trials` instead.
    """
    if model.trial_loop == "associative":
        return associative_scan_trials(model, params, trials, emit, scored)
    first, per_trial = split_params(params)

    def body(state, xs):
        trial, values = xs
        p = first._replace(**values)
        state, logits_ = observe(model, p, state, trial, resets)
        new = learn(model, p, state, trial, gaps)
        return new, (logits_, None if emit is None else emit(state, trial, new, p))

    _, (raw, out) = lax.scan(body, model.init_state(model.n_options, first), (trials, per_trial))
    return (score_trials(model, raw, trials) if scored else raw), out


def score_trials(model, logits_, trials):
    """:func:`score_logits` of every trial at once.

    Parameters
    ----------
    model : bayesrl.Model
    logits_ : jax.Array, shape (trial, option), or tuple of per-stage logits, each (trial, stage_options)
        ``policy``'s output on each trial.
    trials : Trial NamedTuple, each field shape (trial,)

    Returns
    -------
    jax.Array, shape (trial, option) or (trial, stage, option)
    """
    if not model.stages:
        return logits_
    return jax.vmap(functools.partial(score_logits, model))(logits_, trials)


def _compose(earlier, later):
    """The affine map ``s -> later.decay * (earlier.decay * s + earlier.drive) + later.drive``."""
    (d1, b1), (d2, b2) = earlier, later
    return (
        jax.tree_util.tree_map(jnp.multiply, d2, d1),
        jax.tree_util.tree_map(lambda d, b, c: d * b + c, d2, b1, b2),
    )


def _affine(decay, drive, state):
    return jax.tree_util.tree_map(lambda d, b, s: d * s + b, decay, drive, state)


def associative_scan_trials(model, params, trials, emit=None, scored=True):
    """:func:`scan_trials` for a model whose update is affine in the state, by ``lax.associative_scan``.

    Each trial is the affine map ``state -> decay * state + drive`` (``model.linear_update``),
    after a block start's reset (``state -> init_state``, itself affine: decay 0); a trial that
    is not valid is the identity. The maps compose associatively, so the state after every
    trial is a prefix composition computed in ``O(log trial)`` parallel steps instead of
    ``trial`` sequential ones; the policy and ``emit`` then run on all trials at once. The
    result equals :func:`scan_trials`'s up to floating-point rounding. It does more work
    (``O(trial log trial)``) in fewer sequential steps: on 2 CPU cores its gradient was faster only
    at 5 participants x 100 trials and 1.5-5.2x slower elsewhere (``benchmarks/bench_trial_loop.py``),
    so it is opt-in (``trial_loop="associative"``) where it measures faster.

    Parameters and returns as :func:`scan_trials`.
    """
    first, per_trial = split_params(params)
    init = model.init_state(model.n_options, first)

    tree_map = jax.tree_util.tree_map

    def maps(trial, values):
        """The reset and the reset-then-update maps of one trial, and its parameters."""
        p = first._replace(**values)
        decay, drive = model.linear_update(p, trial)
        decay = tree_map(lambda d, s: jnp.broadcast_to(jnp.where(trial.valid, d, 1.0), s.shape), decay, init)
        drive = tree_map(lambda b, s: jnp.broadcast_to(jnp.where(trial.valid, b, 0.0), s.shape), drive, init)
        start = model.init_state(model.n_options, p)
        reset = (
            tree_map(lambda s: jnp.full_like(s, jnp.where(trial.block_start, 0.0, 1.0)), start),
            tree_map(lambda s: jnp.where(trial.block_start, s, 0.0), start),
        )
        return reset, _compose(reset, (decay, drive)), p

    reset, step, p = jax.vmap(maps)(trials, per_trial)
    decay, drive = lax.associative_scan(_compose, step)
    after = _affine(decay, drive, tree_map(lambda s, d: jnp.broadcast_to(s, d.shape), init, decay))  # after each trial
    before = tree_map(lambda s0, s: jnp.concatenate([s0[None], s[:-1]]), init, after)
    state = _affine(*reset, before)  # the state each choice is made from

    def one(state, trial, new, p):
        return model.policy(state, p, trial), None if emit is None else emit(state, trial, new, p)

    raw, out = jax.vmap(one)(state, trials, after, p)
    return (score_trials(model, raw, trials) if scored else raw), out


def participant_logits(model, params, trials, resets=True, gaps=True):
    """Logits of one participant's trials, observed choices fed in.

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple of scalars (or (trial,) arrays, see :func:`scan_trials`)
    trials : Trial NamedTuple, each field shape (trial,)
    resets, gaps : bool, default True
        See :func:`scan_trials`.

    Returns
    -------
    jax.Array, shape (trial, option), or (trial, stage, option) for a staged model
        A staged model's are :func:`score_logits`' masked logits.
    """
    return scan_trials(model, params, trials, resets=resets, gaps=gaps)[0]


def participant_latents(model, params, trials):
    """Everything a model-based analysis reads off one participant's trials, observed choices fed in.

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple of scalars (or (trial,) arrays, see :func:`scan_trials`)
    trials : Trial NamedTuple, each field shape (trial,)

    Returns
    -------
    states : State, each field shape (trial, ...)
        The state each choice was made from (after a block-start reset, before ``update``).
    logits : jax.Array, shape (trial, option) or (trial, stage, option)
    latents : dict of str to jax.Array, each shape (trial,)
        :meth:`bayesrl.Model.trial_latents`, NaN on trials that are not valid.

    Raises
    ------
    ValueError
        When the model's ``latents`` returns something other than scalars.
    """

    def emit(state, trial, new, p):
        extra = {}
        for name, value in model.trial_latents(state, p, trial, new).items():
            value = jnp.asarray(value)
            if value.shape != ():
                raise ValueError(
                    f"latent {name!r} of model {model.name!r} has shape {value.shape}; latents must be scalars "
                    "(put per-option quantities in the state, which is reported field by field)"
                )
            value = value.astype(jnp.result_type(value, float))
            extra[name] = jnp.where(trial.valid, value, jnp.nan)
        return state, extra

    logits_, (states, extra) = scan_trials(model, params, trials, emit)
    return states, logits_, extra


@functools.partial(jax.jit, static_argnums=0, static_argnames=("resets", "gaps"))
def logits(model, params, trials, resets=True, gaps=True):
    """Logits for every participant and trial (compiled once per model and shape).

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple, each field shape (participant,) or (participant, trial)
    trials : Trial NamedTuple, each field shape (participant, trial)
    resets : bool, default True
        False when no trial starts a block (see :func:`scan_trials`).
    gaps : bool, default True
        False when the only invalid trials are padding after each participant's last trial
        (see :func:`scan_trials`).

    Returns
    -------
    jax.Array, shape (participant, trial, option), or (participant, trial, stage, option)
        for a staged model (:data:`NOT_OFFERED` where an option is not offered; not normalised).
        With ``gaps=False`` the padding's logits are those of the learner updated on it.
    """
    return jax.vmap(functools.partial(participant_logits, model, resets=resets, gaps=gaps))(params, trials)


@functools.partial(jax.jit, static_argnums=0, static_argnames=("resets", "gaps"))
def policy_logits(model, params, trials, resets=True, gaps=True):
    """``policy``'s output for every participant and trial, observed choices fed in (what the likelihood scores).

    Parameters and ``resets``, ``gaps`` as :func:`logits`.

    Returns
    -------
    jax.Array, shape (participant, trial, option), or for a staged model a tuple of one array per
    stage, shape (participant, trial, stage_options)
        Without stages the same as :func:`logits`; a staged model's are not masked or padded.
    """

    def one(p, t):
        return scan_trials(model, p, t, resets=resets, gaps=gaps, scored=False)[0]

    return jax.vmap(one)(params, trials)


@functools.partial(jax.jit, static_argnums=0)
def latents(model, params, trials):
    """:func:`participant_latents` for every participant (compiled once per model and shape).

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple, each field shape (participant,) or (participant, trial)
    trials : Trial NamedTuple, each field shape (participant, trial)

    Returns
    -------
    states : State, each field shape (participant, trial, ...)
    logits : jax.Array, shape (participant, trial[, stage], option)
    latents : dict of str to jax.Array, each shape (participant, trial)
    """
    return jax.vmap(participant_latents, in_axes=(None, 0, 0))(model, params, trials)


def chosen_log_softmax(logits_, choice, groups=None, group=None):
    """``log_softmax(logits_)[..., choice]``: the log-probability of each choice.

    Computed as ``jax.nn.log_softmax`` computes it (shift by the maximum, whose gradient is
    stopped; subtract the log of the sum of exponentials), so tied logits give exactly
    ``-log(option)``; with at most :data:`UNROLL_OPTIONS` options, option by option on slices
    of the last axis (elementwise, faster on the CPU), else by ``log_softmax`` and a gather.

    Parameters
    ----------
    logits_ : array, shape (..., option)
        :data:`NOT_OFFERED` gives an option probability 0.
    choice : int array, shape broadcastable with ``logits_.shape[:-1]``
        Each in ``[0, option)``.
    groups : tuple of int, optional
        The option group of each option (``Stage.groups``); with ``group``, only the options of
        group ``group`` are offered, the others have probability 0 (as :func:`stage_logits`).
    group : int array, broadcastable with ``choice``, optional
        The group offered on each trial.

    Returns
    -------
    jax.Array, shape ``broadcast(choice.shape, logits_.shape[:-1])``
    """
    n = logits_.shape[-1]
    shape = jnp.broadcast_shapes(jnp.shape(choice), logits_.shape[:-1], () if groups is None else jnp.shape(group))
    logits_ = jnp.broadcast_to(logits_, (*shape, n))
    choice = jnp.broadcast_to(jnp.asarray(choice, jnp.int32), shape)
    if groups is not None:
        group = jnp.broadcast_to(group, shape)
    if n > UNROLL_OPTIONS:
        if groups is not None:
            offered = jnp.asarray(groups).reshape((1,) * group.ndim + (n,)) == group[..., None]
            logits_ = jnp.where(offered, logits_, NOT_OFFERED)
        logp = jax.nn.log_softmax(logits_, axis=-1)
        return jnp.take_along_axis(logp, choice[..., None], axis=-1)[..., 0]
    parts = [logits_[..., k] for k in range(n)]
    if groups is not None:
        parts = [jnp.where(group == g, part, NOT_OFFERED) for g, part in zip(groups, parts, strict=True)]
    top = lax.stop_gradient(functools.reduce(jnp.maximum, parts))
    total = functools.reduce(jnp.add, [jnp.exp(part - top) for part in parts])
    picked = functools.reduce(jnp.add, [jnp.where(choice == k, part, 0.0) for k, part in enumerate(parts)])
    return picked - top - jnp.log(total)


def chosen_log_probs(model, logits_, choice, offered=None):
    """Log-probability of each observed choice, from ``policy``'s output (:func:`policy_logits`).

    The same values as :func:`chosen_log_softmax` of :func:`score_trials`' masked logits,
    without building them: a staged model's stages are scored one by one, each over the options
    of the observed choice's group (:func:`offered_group`).

    Parameters
    ----------
    model : bayesrl.Model
    logits_ : jax.Array, shape (..., option), or tuple of per-stage arrays, each (..., stage_options)
    choice : int array, shape (...) or (..., stage)
        The choices to score (:func:`observed_choices`).
    offered : int array, shape (..., stage), optional
        Choices whose groups are the groups offered (default ``choice``).

    Returns
    -------
    jax.Array, shape (...) or (..., stage)
    """
    if not model.stages:
        return chosen_log_softmax(logits_, choice)
    offered = choice if offered is None else offered
    out = []
    for k, (stage, lg) in enumerate(zip(model.stages, logits_, strict=True)):
        group = None if stage.groups is None else offered_group(model, k, offered[..., k])
        out.append(chosen_log_softmax(lg, choice[..., k], stage.groups, group))
    return jnp.stack(out, axis=-1)


def choice_log_prob(logits_, choice, valid):
    """``log softmax(logits)[choice]`` (:func:`chosen_log_softmax`), zero where not valid.

    Parameters
    ----------
    logits_ : array, shape (..., option)
    choice : int array, shape (...)
    valid : bool array, shape (...)

    Returns
    -------
    jax.Array, shape (...)
    """
    return jnp.where(valid, chosen_log_softmax(logits_, choice), 0.0)


def participant_log_likelihood(model, params, trials):
    """Log-probability of each of one participant's observed choices, stages apart.

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple of scalars (or (trial,) arrays, see :func:`scan_trials`)
    trials : Trial NamedTuple, each field shape (trial,)

    Returns
    -------
    jax.Array, shape (trial, stage)
        ``stage`` has length 1 for a model without stages. Zero for masked and padded trials.
    """
    choice, valid = observed_choices(model, trials)
    logits_ = scan_trials(model, params, trials, scored=False)[0]
    ll = jnp.where(valid, chosen_log_probs(model, logits_, choice), 0.0)
    return ll if model.stages else ll[..., None]


@functools.partial(jax.jit, static_argnums=0)
def stage_log_likelihood(model, params, trials):
    """Log-probability of each observed choice, stages apart (:func:`participant_log_likelihood` of every participant).

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple, each field shape (participant,) or (participant, trial)
    trials : Trial NamedTuple, each field shape (participant, trial)

    Returns
    -------
    jax.Array, shape (participant, trial, stage)
        ``stage`` has length 1 for a model without stages. Zero for masked and padded trials.
    """
    return jax.vmap(functools.partial(participant_log_likelihood, model))(params, trials)


def log_likelihood(model, params, trials):
    """Log-probability of each trial's observed choices (summed over a staged model's stages).

    Parameters
    ----------
    model : bayesrl.Model
    params : Params NamedTuple, each field shape (participant,) or (participant, trial)
    trials : Trial NamedTuple, each field shape (participant, trial)

    Returns
    -------
    jax.Array, shape (participant, trial)
        Zero for masked and padded trials.
    """
    return stage_log_likelihood(model, params, trials).sum(-1)
