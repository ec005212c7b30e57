r"""Model variants: transformers that take a :class:`~bayesrl.Model` and return a new one.

Each adds one mechanism to any model (a lapse rate, choice perseveration, value forgetting,
a free initial value) by wrapping its ``init_state``/``policy``/``update``; nothing of the
base model is copied. They compose::

    m = brl.models.with_lapse(brl.models.with_forgetting(brl.models.rescorla_wagner_asymmetric()))
    m.name  # "rescorla_wagner_asymmetric+forgetting+lapse"

The composed model's ``options`` hold ``{"base": <base name>, "base_options": <base options>,
...}`` so :func:`bayesrl.models.get` rebuilds it from its name and :func:`bayesrl.load_fit`
reopens saved fits. A parameter name the base already uses is an error (rename the base's with
:meth:`~bayesrl.Model.renamed` first).

Also here: :func:`rescorla_wagner_pearce_hall`, the Pearce-Hall hybrid learning rule.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from .. import learning, policies
from ..model import Model
from ..transforms import Parameter, bounded, real, unit
from ._registry import register, register_variant

# ----------------------------------------------------------------------------------------------
# helpers


def _compose(model: Model, token: str, who: str, new_params: dict[str, Parameter], **changes: Any) -> Model:
    """The base model with ``new_params`` appended, renamed ``base+token``; functions in ``changes``."""
    clash = [k for k in new_params if k in model.params]
    if clash:
        raise ValueError(
            f"{who}(): model {model.name!r} already has parameter(s) {clash} (its parameters: "
            f"{list(model.params)}); rename them first, e.g. model.renamed({{{clash[0]!r}: '{clash[0]}_base'}})"
        )
    kwargs = changes.pop("kwargs", {})
    changes.setdefault("linear_update", None)  # the base's affine form does not describe the composed model
    changes.setdefault("trial_loop", "scan")
    options = {"base": model.name, "base_options": dict(model.options), **kwargs} if model.options else {}
    description = changes.pop("what")
    return dataclasses.replace(
        model,
        name=f"{model.name}+{token}",
        params={**model.params, **new_params},
        description=f"{model.description}; {description}" if model.description else description,
        options=options,
        **changes,
    )


def _check(model, who: str, one_choice: bool = False) -> None:
    if not isinstance(model, Model):
        raise TypeError(f"{who}() takes a bayesrl.Model, got {type(model).__name__}")
    if one_choice and model.stages:
        raise ValueError(
            f"{who}() changes the choice rule of a model with one choice per trial; model {model.name!r} makes "
            f"{model.n_stages} ({', '.join(model.choice_columns)}), so write the change into its policy instead"
        )


def _base_params(model: Model):
    """Project the composed model's params NamedTuple onto the base model's fields."""
    base_type, names = model.params_type, model.param_names
    return lambda p: base_type(*(getattr(p, k) for k in names))


def _field_path(state, field: str):
    """Attribute path to ``field`` in a state, looking through wrappers' ``base`` fields; None if absent."""
    fields = getattr(state, "_fields", ())
    if field in fields:
        return (field,)
    if "base" in fields:
        inner = _field_path(state.base, field)
        return None if inner is None else ("base", *inner)
    return None


def _get(state, path):
    for name in path:
        state = getattr(state, name)
    return state


def _set(state, path, value):
    if len(path) == 1:
        return state._replace(**{path[0]: value})
    return state._replace(**{path[0]: _set(getattr(state, path[0]), path[1:], value)})


def _value_path(model: Model, field: str, who: str):
    """Check (without computing) that the model's state holds a value vector ``field``."""
    dummy = model.make_params({k: jnp.asarray(spec.constrain(0.0)) for k, spec in model.params.items()})
    state = jax.eval_shape(lambda p: model.init_state(model.n_options, p), dummy)
    path = _field_path(state, field)
    if path is None:
        raise ValueError(
            f"{who}(): the state of model {model.name!r} has no value vector {field!r} "
            f"(its state is {type(state).__name__}{tuple(getattr(state, '_fields', ()))}); pass field=<name>"
        )
    return path, _get(state, path).shape


def _latents(model: Model, project, inner=None):
    """The base model's ``latents`` seen through a variant (params projected, state unwrapped); None if it has none."""
    hook = model.latents
    if hook is None:
        return None  # the default finds ``q`` through a wrapper's ``base``
    if inner is None:
        return lambda s, p, t, n: hook(s, project(p), t, n)
    return lambda s, p, t, n: hook(inner(s), project(p), t, inner(n))


def _variant_tokens(model: Model):
    return [t.split("(", 1)[0] for t in model.name.split("+")[1:]]


# ----------------------------------------------------------------------------------------------
# transformers


@register_variant("lapse")
def with_lapse(model: Model) -> Model:
    r"""Add a lapse rate: with probability ``xi`` the choice is uniformly random.

    .. math::

        P(c_t = k) = (1 - \xi)\,\mathrm{softmax}_k(\ell_t) + \xi / K

    where :math:`\ell_t` are the base model's logits and :math:`K` the number of options. The
    new policy returns these log-probabilities (a valid set of logits), computed stably as
    ``logaddexp(log(1 - xi) + log_softmax(l), log(xi) - log K)``.

    Parameters
    ----------
    model : bayesrl.Model

    Returns
    -------
    bayesrl.Model
        Named ``"<base>+lapse"``, parameters of the base plus ``xi`` in [0, 1] (``Phi_approx``,
        ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``).

    References
    ----------
    Sutton, R. S., & Barto, A. G. (2018). *Reinforcement Learning: An Introduction* (epsilon-greedy).
    Wilson, R. C., & Collins, A. G. E. (2019). Ten simple rules for the computational modeling of
    behavioral data. *eLife*, 8, e49547 (the noisy / lapse choice rule).
    """
    _check(model, "with_lapse", one_choice=True)
    project, base_policy, k = _base_params(model), model.policy, model.n_options
    finfo = jnp.finfo(jnp.result_type(float))

    def policy(s, p, t):
        logp = jax.nn.log_softmax(base_policy(s, project(p), t))
        xi = jnp.clip(p.xi, finfo.tiny, 1.0 - finfo.epsneg)  # finite gradients at xi = 0 or 1
        return jnp.logaddexp(jnp.log1p(-xi) + logp, jnp.log(xi) - jnp.log(k))

    init, update = model.init_state, model.update
    return _compose(
        model,
        "lapse",
        "with_lapse",
        {"xi": unit()},
        what="lapse (uniform random choice with probability xi)",
        init_state=lambda n, p: init(n, project(p)),
        policy=policy,
        update=lambda s, p, t: update(s, project(p), t),
        latents=_latents(model, project),
    )


class PerseverationState(NamedTuple):
    """The base model's state and a choice trace over options."""

    base: Any
    trace: jnp.ndarray  # (option,)


@register_variant("perseveration")
def with_perseveration(model: Model, decay: bool = False) -> Model:
    r"""Add choice perseveration (stickiness): a logit bonus ``kappa`` for repeating past choices.

    .. math::

        \ell'_t(k) = \ell_t(k) + \kappa\, C_t(k), \qquad
        C_{t+1} = C_t + \tau_c\,(\mathbb{1}[c_t] - C_t), \qquad C_0 = 0

    With ``decay=False`` :math:`\tau_c = 1`: the trace is the one-hot previous choice (a bonus for
    repeating the last choice only, as :func:`rescorla_wagner_perseveration`). With ``decay=True``
    the trace decays at a free rate ``tau_c`` in [0, 1] (a choice kernel). The trace is zero
    at a block start and unchanged by masked trials.

    Parameters
    ----------
    model : bayesrl.Model
    decay : bool, default False
        Add the decaying choice trace (parameter ``tau_c``).

    Returns
    -------
    bayesrl.Model
        Named ``"<base>+perseveration"`` (``"+perseveration(decay)"``); parameters of the base
        plus ``kappa`` real (``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 1)``) and, with decay,
        ``tau_c`` in [0, 1]. The state is ``PerseverationState(base, trace)``.

    References
    ----------
    Lau, B., & Glimcher, P. W. (2005). Dynamic response-by-response models of matching behavior in
    rhesus monkeys. *J. Exp. Anal. Behav.*, 84, 555-579. Wilson, R. C., & Collins, A. G. E. (2019).
    Ten simple rules for the computational modeling of behavioral data. *eLife*, 8, e49547.
    """
    _check(model, "with_perseveration", one_choice=True)
    decay = bool(decay)
    project, n_options = _base_params(model), model.n_options
    init, base_policy, base_update = model.init_state, model.policy, model.update
    new = {"kappa": real()} | ({"tau_c": unit()} if decay else {})

    def init_state(n, p):
        return PerseverationState(init(n, project(p)), jnp.zeros((n,), dtype=jnp.result_type(float)))

    def policy(s, p, t):
        return base_policy(s.base, project(p), t) + p.kappa * s.trace

    def update(s, p, t):
        chosen = (jnp.arange(n_options) == t.choice).astype(s.trace.dtype)
        rate = p.tau_c if decay else 1.0
        return PerseverationState(base_update(s.base, project(p), t), s.trace + rate * (chosen - s.trace))

    return _compose(
        model,
        "perseveration(decay)" if decay else "perseveration",
        "with_perseveration",
        new,
        what="choice perseveration" + (" with a decaying choice trace" if decay else " (last choice)"),
        kwargs={"decay": decay},
        init_state=init_state,
        policy=policy,
        update=update,
        latents=_latents(model, project, inner=lambda s: s.base),
    )


@register_variant("forgetting")
def with_forgetting(model: Model, field: str = "q") -> Model:
    r"""Add value forgetting: after each update, unchosen values decay toward their initial value.

    .. math::

        Q_{t+1}(k) = Q'_{t+1}(k) + \phi\,(Q_0(k) - Q'_{t+1}(k)) \quad (k \ne c_t), \qquad
        Q_{t+1}(c_t) = Q'_{t+1}(c_t)

    where :math:`Q'` is the base model's updated value vector ``state.<field>`` and :math:`Q_0`
    the vector its ``init_state`` starts from. Masked trials forget nothing.

    Parameters
    ----------
    model : bayesrl.Model
        Its state must hold a value vector ``field`` with one entry per option (directly or in
        a wrapper's ``base``).
    field : str, default "q"

    Returns
    -------
    bayesrl.Model
        Named ``"<base>+forgetting"``; parameters of the base plus ``phi`` in [0, 1].

    Raises
    ------
    ValueError
        When the state has no such field, or it does not hold one value per option (e.g. the
        stimulus values of :func:`pst_Q`, where "unchosen" is not defined by the choice).

    References
    ----------
    Ito, M., & Doya, K. (2009). Validation of decision-making models and analysis of decision
    variables in the rat basal ganglia. *J. Neurosci.*, 29, 9861-9874. Katahira, K. (2015). The
    relation between reinforcement learning parameters and the influence of reinforcement history on
    choice behavior. *J. Math. Psychol.*, 66, 59-69.
    """
    _check(model, "with_forgetting")
    path, shape = _value_path(model, field, "with_forgetting")
    if shape != (model.n_options,):
        raise ValueError(
            f"with_forgetting(): {field!r} of model {model.name!r} has shape {shape}, not one value per "
            f"option ({model.n_options},): which entries are unchosen is not defined by the choice"
        )
    project, n_options = _base_params(model), model.n_options
    init, base_update = model.init_state, model.update

    def update(s, p, t):
        bp = project(p)
        new = base_update(s, bp, t)
        v, v0 = _get(new, path), _get(init(n_options, bp), path)
        unchosen = jnp.arange(n_options) != t.choice
        return _set(new, path, jnp.where(unchosen, v + p.phi * (v0 - v), v))

    return _compose(
        model,
        "forgetting",
        "with_forgetting",
        {"phi": unit()},
        what="forgetting (unchosen values decay toward their initial value)",
        kwargs={"field": field},
        init_state=lambda n, p: init(n, project(p)),
        policy=lambda s, p, t: model.policy(s, project(p), t),
        update=update,
        latents=_latents(model, project),
    )


@register_variant("free_q0")
def with_free_initial_value(model: Model, field: str = "q") -> Model:
    r"""Make the initial value a free parameter: ``init_state`` fills ``state.<field>`` with ``q0``.

    .. math::

        Q_0(k) = q_0 \quad \text{for every entry } k

    at the first trial and at each block start.

    Parameters
    ----------
    model : bayesrl.Model
        Its state must hold the value vector ``field`` (directly or in a wrapper's ``base``).
    field : str, default "q"

    Returns
    -------
    bayesrl.Model
        Named ``"<base>+free_q0"``; parameters of the base plus ``q0`` real (``mu ~ N(0, 1)``,
        ``sigma ~ half-N(0, 1)``).

    Raises
    ------
    ValueError
        When the state has no such field, or when ``model`` already forgets toward its initial
        values (apply :func:`with_free_initial_value` first, then :func:`with_forgetting`, so the
        values decay toward ``q0``).

    References
    ----------
    Katahira, K., Yuki, S., & Okanoya, K. (2017). Model-based estimation of subjective values using
    choice tasks with probabilistic feedback. *J. Math. Psychol.*, 79, 29-43.
    """
    _check(model, "with_free_initial_value")
    if "forgetting" in _variant_tokens(model):
        raise ValueError(
            f"with_free_initial_value(): {model.name!r} already forgets toward its own initial values; "
            "apply with_free_initial_value first and with_forgetting after it, so values decay toward q0"
        )
    path, _ = _value_path(model, field, "with_free_initial_value")
    project, init = _base_params(model), model.init_state

    def init_state(n, p):
        s = init(n, project(p))
        v = _get(s, path)
        return _set(s, path, jnp.full(v.shape, p.q0, dtype=v.dtype))

    return _compose(
        model,
        "free_q0",
        "with_free_initial_value",
        {"q0": real()},
        what="free initial value q0",
        kwargs={"field": field},
        init_state=init_state,
        policy=lambda s, p, t: model.policy(s, project(p), t),
        update=lambda s, p, t: model.update(s, project(p), t),
        latents=_latents(model, project),
    )


# ----------------------------------------------------------------------------------------------
# Pearce-Hall hybrid


class PearceHallState(NamedTuple):
    """Option values and their associabilities."""

    q: jnp.ndarray  # (option,)
    associability: jnp.ndarray  # (option,)


@register
def rescorla_wagner_pearce_hall(n_options: int = 2, *, beta_max: float = 5.0, initial_value: float = 0.0) -> Model:
    r"""Rescorla-Wagner / Pearce-Hall hybrid: a learning rate scaled by a dynamic associability.

    .. math::

        \delta_t = r_t - Q_t(c_t), \qquad
        Q_{t+1}(c_t) = Q_t(c_t) + \kappa\,\alpha_t(c_t)\,\delta_t, \qquad
        \alpha_{t+1}(c_t) = \eta\,|\delta_t| + (1 - \eta)\,\alpha_t(c_t),

    :math:`\alpha_0(k) = \alpha_0`, :math:`P(c_t = k) = \mathrm{softmax}_k(\beta Q_t)`. Each
    option has its own associability; only the chosen option's value and associability change,
    the value with the associability from before the trial's outcome.

    Latents (:meth:`bayesrl.Fit.latents`): ``chosen_value`` :math:`Q_t(c_t)`,
    ``prediction_error`` :math:`\delta_t`, ``associability`` :math:`\alpha_t(c_t)` and
    ``learning_rate`` :math:`\kappa\,\alpha_t(c_t)`, besides every option's ``q`` and
    ``associability``.

    Parameters
    ----------
    n_options : int, default 2
    beta_max : float, default 5
        Upper bound of the inverse temperature.
    initial_value : float, default 0
        Initial value of every option.

    Notes
    -----
    Parameters: ``kappa`` salience (learning-rate scale) [0, 1]; ``eta`` associability update
    rate [0, 1]; ``alpha0`` initial associability [0, 1]; ``beta`` inverse temperature
    [0, beta_max]. Columns: ``participant``, ``choice``, ``outcome`` (alias ``reward``). With
    outcomes outside [0, 1], ``|delta|`` and the associability can exceed 1.

    References
    ----------
    Pearce, J. M., & Hall, G. (1980). A model for Pavlovian learning. *Psychol. Rev.*, 87, 532-552.
    Le Pelley, M. E. (2004). The role of associative history in models of associative learning.
    *Q. J. Exp. Psychol. B*, 57, 193-243. Li, J., Schiller, D., Schoenbaum, G., Phelps, E. A., &
    Daw, N. D. (2011). Differential roles of human striatum and amygdala in associative learning.
    *Nature Neuroscience*, 14, 1250-1252.
    """
    dtype = jnp.result_type(float)

    def init(n, p):
        return PearceHallState(jnp.full((n,), initial_value, dtype=dtype), jnp.full((n,), p.alpha0, dtype=dtype))

    def update(s, p, t):
        c = t.choice
        pe = t.outcome - learning.chosen(s.q, c)
        assoc_c = learning.chosen(s.associability, c)
        q = learning.add_at(s.q, c, p.kappa * assoc_c * pe)
        assoc = learning.set_at(s.associability, c, p.eta * jnp.abs(pe) + (1.0 - p.eta) * assoc_c)
        return PearceHallState(q, assoc)

    def latents(s, p, t, n):
        c = t.choice
        return {
            "chosen_value": s.q[c],
            "prediction_error": t.outcome - s.q[c],
            "associability": s.associability[c],
            "learning_rate": p.kappa * s.associability[c],
        }

    return Model(
        name="rescorla_wagner_pearce_hall",
        params={"kappa": unit(), "eta": unit(), "alpha0": unit(), "beta": bounded(0.0, beta_max)},
        init_state=init,
        policy=lambda s, p, t: policies.softmax(s.q, p.beta),
        update=update,
        latents=latents,
        n_options=n_options,
        description="Rescorla-Wagner / Pearce-Hall hybrid (associability-weighted learning rate), softmax choice",
        citation="Pearce & Hall (1980); Le Pelley (2004); Li et al. (2011)",
        options={"n_options": n_options, "beta_max": beta_max, "initial_value": initial_value},
    )
