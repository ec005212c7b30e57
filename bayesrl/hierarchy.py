"""The hierarchical NumPyro model: non-centred group priors and a masked observe site."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax import lax
from jax.scipy.special import logsumexp
from numpyro.distributions import constraints
from numpyro.distributions.util import validate_sample

from . import engine
from .design import ParamDesign, trial_values
from .transforms import Prior

SIGMA_FAMILIES = {"halfnormal": dist.HalfNormal, "halfcauchy": dist.HalfCauchy}


#: Whether the observe site normalises more than :data:`bayesrl.engine.UNROLL_OPTIONS` options
#: with ``jax.nn.log_softmax`` (jax 0.12 on) rather than as NumPyro does, ``logits -
#: logsumexp(logits)``. Measured on a 2-core CPU (float32, gradient of the fit's potential;
#: ``benchmarks/README.md``, "The observe site"): under jax 0.12 ``logsumexp``'s derivative made
#: the gradient 1.3-3.0x slower; under jax 0.10 ``log_softmax`` was the slower one (up to 1.5x).
LOG_SOFTMAX = tuple(int(part) for part in jax.__version__.split(".")[:2]) >= (0, 12)


class ChoiceCategorical(dist.CategoricalLogits):
    """NumPyro's ``Categorical(logits=...)``, its log-probability computed the faster way on this machine's JAX.

    The observe site's distribution: the same distribution (sampling, support, shapes) and the
    same ``log_prob`` value (to rounding), computed by :func:`bayesrl.engine.chosen_log_softmax`
    (option by option for up to :data:`bayesrl.engine.UNROLL_OPTIONS` options, else
    ``jax.nn.log_softmax``) or, for more options under jax 0.10 (:data:`LOG_SOFTMAX` False), as
    NumPyro computes it.

    Parameters
    ----------
    logits : jax.Array, shape (..., option)
        Unnormalised log-probabilities; :data:`bayesrl.engine.NOT_OFFERED` gives probability 0.
    """

    @validate_sample
    def log_prob(self, value):
        """``log_softmax(logits)[value]``, shape ``broadcast(value.shape, batch_shape)``."""
        batch_shape = lax.broadcast_shapes(jnp.shape(value), self.batch_shape)
        if LOG_SOFTMAX or self.logits.shape[-1] <= engine.UNROLL_OPTIONS:
            return jnp.broadcast_to(engine.chosen_log_softmax(self.logits, value), batch_shape)
        logp = self.logits - logsumexp(self.logits, axis=-1, keepdims=True)
        logp = jnp.broadcast_to(logp, batch_shape + self.logits.shape[-1:])
        value = jnp.broadcast_to(jnp.expand_dims(value, -1), batch_shape + (1,))
        return jnp.take_along_axis(logp, value, -1)[..., 0]


class StagedChoice(dist.Distribution):
    """The choices of a model with several stages per trial: each stage's choice categorical over the options offered.

    The observe site's distribution for a staged model: the same distribution as
    ``ChoiceCategorical(logits)`` of :func:`bayesrl.engine.logits`' masked ``(stage, option)``
    logits, its log-probability computed stage by stage from ``policy``'s own logits
    (:func:`bayesrl.engine.chosen_log_probs`) without building that array, which on the CPU
    cost more than the trial loop (``benchmarks/README.md``, "Scoring option by option").

    Parameters
    ----------
    model : bayesrl.Model
        A model with ``stages``.
    logits : tuple of jax.Array, one per stage, each shape (..., stage_options)
        ``policy``'s output (:func:`bayesrl.engine.policy_logits`).
    offered : int array, shape (..., stage)
        The observed choices: each stage offers the option group of its observed choice (as
        :func:`bayesrl.engine.score_logits`).
    """

    arg_constraints = {}
    pytree_data_fields = ("logits", "offered")
    pytree_aux_fields = ("model",)

    def __init__(self, model, logits, offered, *, validate_args=None):
        self.model, self.logits, self.offered = model, tuple(logits), jnp.asarray(offered)
        super().__init__(batch_shape=self.offered.shape, event_shape=(), validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        """The options, ``0 .. model.n_options - 1``."""
        return constraints.integer_interval(0, self.model.n_options - 1)

    @property
    def scored_logits(self):
        """The masked logits, shape (..., stage, option), as :func:`bayesrl.engine.score_logits` gives them."""
        rows = []
        for k, lg in enumerate(self.logits):
            flat, offered = lg.reshape(-1, lg.shape[-1]), self.offered[..., k].reshape(-1)

            def row(logits, choice, k=k):
                return engine.stage_logits(self.model, k, logits, engine.offered_group(self.model, k, choice))

            rows.append(jax.vmap(row)(flat, offered).reshape(*lg.shape[:-1], self.model.n_options))
        return jnp.stack(rows, axis=-2)

    def sample(self, key, sample_shape=()):
        """Draws of each stage's choice, shape ``sample_shape + batch_shape``."""
        return dist.CategoricalLogits(self.scored_logits).sample(key, sample_shape)

    @validate_sample
    def log_prob(self, value):
        """Log-probability of each stage's choice, shape ``broadcast(value.shape, batch_shape)``."""
        shape = lax.broadcast_shapes(jnp.shape(value), self.batch_shape)
        logits = [jnp.broadcast_to(lg, (*shape[:-1], lg.shape[-1])) for lg in self.logits]
        offered = jnp.broadcast_to(self.offered, shape)
        return engine.chosen_log_probs(self.model, logits, jnp.broadcast_to(value, shape), offered)


def resolve_priors(model, priors: Mapping | None) -> dict:
    """Each parameter's :class:`~bayesrl.transforms.Prior`, with user overrides validated.

    Parameters
    ----------
    model : bayesrl.Model
    priors : mapping, optional
        ``{param: Prior(...)}`` or ``{param: {"mu_loc": .., "mu_scale": .., "sigma_scale": ..}}``.

    Returns
    -------
    dict of str to Prior

    Raises
    ------
    ValueError
        For an unknown parameter name or prior field, or a non-positive scale.
    """
    out = {k: v.prior for k, v in model.params.items()}
    for name, value in dict(priors or {}).items():
        if name not in out:
            raise ValueError(
                f"priors= names unknown parameter {name!r}; model {model.name!r} has parameters "
                f"{list(model.param_names)}"
            )
        if isinstance(value, Prior):
            prior = value
        elif isinstance(value, Mapping):
            bad = sorted(set(value) - set(Prior._fields))
            if bad:
                raise ValueError(f"priors[{name!r}] has unknown fields {bad}; allowed: {list(Prior._fields)}")
            prior = out[name]._replace(**{k: (v if k == "sigma_family" else float(v)) for k, v in value.items()})
        else:
            raise ValueError(f"priors[{name!r}] must be a brl.Prior or a dict of {list(Prior._fields)}")
        if prior.mu_scale <= 0 or prior.sigma_scale <= 0 or prior.coef_scale <= 0:
            raise ValueError(f"priors[{name!r}]: scales must be positive, got {prior}")
        if prior.sigma_family not in SIGMA_FAMILIES:
            raise ValueError(f"priors[{name!r}]: sigma_family must be one of {sorted(SIGMA_FAMILIES)}")
        out[name] = prior
    return out


def _location(name, prior, d: ParamDesign):
    """The group location: ``p_mu`` (scalar), or ``X @ p_beta`` (participant,) with a formula."""
    if d.formula is None:
        return numpyro.sample(f"{name}_mu", dist.Normal(prior.mu_loc, prior.mu_scale))
    intercept = jnp.asarray([t == "Intercept" for t in d.terms])
    loc = jnp.where(intercept, prior.mu_loc, 0.0)
    scale = jnp.where(intercept, prior.mu_scale, prior.coef_scale)
    beta = numpyro.sample(f"{name}_beta", dist.Normal(loc, scale).to_event(1))
    return jnp.asarray(d.X) @ beta


def _scale(name, prior, d: ParamDesign):
    """The group scale: ``p_sigma`` (scalar), or one per level of ``sigma_by`` given to each participant."""
    family = SIGMA_FAMILIES[prior.sigma_family](prior.sigma_scale)
    if d.sigma_by is None:
        return numpyro.sample(f"{name}_sigma", family)
    sigma = numpyro.sample(f"{name}_sigma", family.expand([len(d.sigma_levels)]).to_event(1))
    return sigma[jnp.asarray(d.sigma_index)]


def hierarchical_model(model, trials, priors: Mapping, centered=frozenset(), design=None, resets=True, gaps=True):
    """NumPyro model: group priors, participant parameters, choices.

    Sites per parameter ``p``: ``p_mu``, ``p_sigma`` (group, unconstrained scale), ``p_z``
    (participant, non-centred) or ``p_raw`` (participant, centred, when ``p in centered``),
    deterministic ``p`` (participant, natural scale) and ``p_group`` (the group location on
    the natural scale, hBayesDM's ``mu_p``). The observed site ``choice`` has plates
    ``participant`` and ``trial`` (and ``stage`` for a model with several choices per trial,
    each stage observed) and is masked where ``trials.valid`` is False; its distribution is
    :class:`ChoiceCategorical` (:class:`StagedChoice` for a staged model), NumPyro's
    ``Categorical`` of :func:`bayesrl.engine.logits`.

    With a :class:`bayesrl.design.Design`: a parameter with a formula has ``p_beta`` (coef,)
    instead of ``p_mu`` and ``p_group``, the location of participant ``i`` being ``X[i] @ p_beta``
    (the intercept's prior is the ``mu`` prior, the other coefficients' ``Normal(0,
    coef_scale)``); with ``sigma_by``, ``p_sigma`` has one entry per level; with conditions,
    ``p_cond`` and ``p_cond_sigma`` (offset,) and ``p_cond_z`` (participant, offset) add each
    non-reference condition's offset, ``p`` is (participant, condition) and ``p_group``
    (condition,) (without a formula), and the engine is given each trial's value.

    Parameters
    ----------
    model : bayesrl.Model
    trials : Trial NamedTuple, each field shape (participant, trial)
    priors : mapping of str to Prior
    centered : set of str
        Parameters to give a centred parameterisation.
    design : bayesrl.design.Design, optional
    resets : bool, default True
        False when no trial starts a block: the trial loop leaves out the reset
        (:func:`bayesrl.engine.scan_trials`).
    gaps : bool, default True
        False when the only invalid trials are padding after each participant's last trial:
        the trial loop updates the state on them instead of keeping it
        (:func:`bayesrl.engine.scan_trials`).
    """
    n_p, n_t = trials.valid.shape
    values = {}
    for name, spec in model.params.items():
        prior = priors[name]
        d = design.get(name) if design is not None else ParamDesign()
        loc = _location(name, prior, d)
        sigma = _scale(name, prior, d)
        with numpyro.plate("participant", n_p, dim=-1):
            if name in centered:
                raw = numpyro.sample(f"{name}_raw", dist.Normal(loc, sigma))
            else:
                raw = loc + sigma * numpyro.sample(f"{name}_z", dist.Normal(0.0, 1.0))
        if d.condition is None:
            values[name] = numpyro.deterministic(name, spec.constrain(raw))
            if d.formula is None:
                numpyro.deterministic(f"{name}_group", spec.constrain(loc))
            continue
        n_off = d.n_conditions - 1
        delta = numpyro.sample(f"{name}_cond", dist.Normal(0.0, prior.coef_scale).expand([n_off]).to_event(1))
        tau = numpyro.sample(
            f"{name}_cond_sigma", SIGMA_FAMILIES[prior.sigma_family](prior.sigma_scale).expand([n_off]).to_event(1)
        )
        with numpyro.plate("participant", n_p, dim=-1):
            z = numpyro.sample(f"{name}_cond_z", dist.Normal(0.0, 1.0).expand([n_off]).to_event(1))
        offsets = jnp.concatenate([jnp.zeros((n_p, 1)), delta[None, :] + tau[None, :] * z], axis=1)
        values[name] = numpyro.deterministic(name, spec.constrain(raw[:, None] + offsets))
        if d.formula is None:
            numpyro.deterministic(f"{name}_group", spec.constrain(loc + jnp.concatenate([jnp.zeros(1), delta])))
    if design is not None:
        values = trial_values(values, design.condition_index)
    logits = engine.policy_logits(model, model.make_params(values), trials, resets=resets, gaps=gaps)
    choice, valid = engine.observed_choices(model, trials)  # (participant, trial[, stage])
    choices = StagedChoice(model, logits, choice) if model.stages else ChoiceCategorical(logits)
    with contextlib.ExitStack() as plates:
        names = ("participant", "trial", "stage")[: choice.ndim]
        for dim, (plate, size) in enumerate(zip(names, choice.shape, strict=True), start=-choice.ndim):
            plates.enter_context(numpyro.plate(plate, size, dim=dim))
        numpyro.sample("choice", choices.mask(valid), obs=choice)
