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
from numpyro.distributions.util import validate_sample

from . import engine
from .design import ParamDesign, trial_values
from .transforms import Prior

SIGMA_FAMILIES = {"halfnormal": dist.HalfNormal, "halfcauchy": dist.HalfCauchy}


#: Whether the observe site normalises with ``jax.nn.log_softmax`` (jax 0.12 on) rather than as
#: NumPyro does, ``logits - logsumexp(logits)``. Measured on a 2-core CPU (float32, gradient of
#: the fit's potential; ``benchmarks/README.md``, "The observe site"): under jax 0.12
#: ``logsumexp``'s derivative made the gradient 1.3-3.0x slower (4-armed and two-step examples,
#: 2-armed at 100-200 participants); under jax 0.10 ``log_softmax`` was the slower one (up to
#: 1.5x, same data).
LOG_SOFTMAX = tuple(int(part) for part in jax.__version__.split(".")[:2]) >= (0, 12)


class ChoiceCategorical(dist.CategoricalLogits):
    """NumPyro's ``Categorical(logits=...)``, its log-probability normalised the faster way for this JAX.

    The observe site's distribution: the same distribution (sampling, support, shapes) and the
    same ``log_prob`` value, computed with ``jax.nn.log_softmax`` where :data:`LOG_SOFTMAX`
    (jax 0.12 and later) and as NumPyro computes it otherwise.

    Parameters
    ----------
    logits : jax.Array, shape (..., option)
        Unnormalised log-probabilities; :data:`bayesrl.engine.NOT_OFFERED` gives probability 0.
    """

    @validate_sample
    def log_prob(self, value):
        """``log_softmax(logits)[value]``, shape ``broadcast(value.shape, batch_shape)``."""
        batch_shape = lax.broadcast_shapes(jnp.shape(value), self.batch_shape)
        if LOG_SOFTMAX:
            logp = jax.nn.log_softmax(self.logits, axis=-1)
        else:
            logp = self.logits - logsumexp(self.logits, axis=-1, keepdims=True)
        logp = jnp.broadcast_to(logp, batch_shape + self.logits.shape[-1:])
        value = jnp.broadcast_to(jnp.expand_dims(value, -1), batch_shape + (1,))
        return jnp.take_along_axis(logp, value, -1)[..., 0]


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
    each stage observed) and is masked where ``trials.valid`` is False.

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
    logits = engine.logits(model, model.make_params(values), trials, resets=resets, gaps=gaps)
    choice, valid = engine.observed_choices(model, trials)  # (participant, trial[, stage])
    with contextlib.ExitStack() as plates:
        names = ("participant", "trial", "stage")[: choice.ndim]
        for dim, (plate, size) in enumerate(zip(names, choice.shape, strict=True), start=-choice.ndim):
            plates.enter_context(numpyro.plate(plate, size, dim=dim))
        numpyro.sample("choice", ChoiceCategorical(logits).mask(valid), obs=choice)
