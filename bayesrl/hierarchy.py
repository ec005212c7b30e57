"""The hierarchical NumPyro model: non-centred group priors and a masked observe site."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import numpyro
import numpyro.distributions as dist

from . import engine
from .transforms import Prior

SIGMA_FAMILIES = {"halfnormal": dist.HalfNormal, "halfcauchy": dist.HalfCauchy}


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
        if prior.mu_scale <= 0 or prior.sigma_scale <= 0:
            raise ValueError(f"priors[{name!r}]: scales must be positive, got {prior}")
        if prior.sigma_family not in SIGMA_FAMILIES:
            raise ValueError(f"priors[{name!r}]: sigma_family must be one of {sorted(SIGMA_FAMILIES)}")
        out[name] = prior
    return out


def hierarchical_model(model, trials, priors: Mapping, centered=frozenset()):
    """NumPyro model: group priors, participant parameters, choices.

    Sites per parameter ``p``: ``p_mu``, ``p_sigma`` (group, unconstrained scale), ``p_z``
    (participant, non-centred) or ``p_raw`` (participant, centred, when ``p in centered``),
    deterministic ``p`` (participant, natural scale) and ``p_group`` (the group location on
    the natural scale, hBayesDM's ``mu_p``). The observed site ``choice`` has plates
    ``participant`` and ``trial`` (and ``stage`` for a model with several choices per trial,
    each stage observed) and is masked where ``trials.valid`` is False.

    Parameters
    ----------
    model : bayesrl.Model
    trials : Trial NamedTuple, each field shape (participant, trial)
    priors : mapping of str to Prior
    centered : set of str
        Parameters to give a centred parameterisation.
    """
    n_p, n_t = trials.valid.shape
    values = {}
    for name, spec in model.params.items():
        prior = priors[name]
        mu = numpyro.sample(f"{name}_mu", dist.Normal(prior.mu_loc, prior.mu_scale))
        sigma = numpyro.sample(f"{name}_sigma", SIGMA_FAMILIES[prior.sigma_family](prior.sigma_scale))
        with numpyro.plate("participant", n_p, dim=-1):
            if name in centered:
                raw = numpyro.sample(f"{name}_raw", dist.Normal(mu, sigma))
            else:
                raw = mu + sigma * numpyro.sample(f"{name}_z", dist.Normal(0.0, 1.0))
            values[name] = numpyro.deterministic(name, spec.constrain(raw))
        numpyro.deterministic(f"{name}_group", spec.constrain(mu))
    logits = engine.logits(model, model.make_params(values), trials)
    choice, valid = engine.observed_choices(model, trials)  # (participant, trial[, stage])
    with contextlib.ExitStack() as plates:
        names = ("participant", "trial", "stage")[: choice.ndim]
        for dim, (plate, size) in enumerate(zip(names, choice.shape, strict=True), start=-choice.ndim):
            plates.enter_context(numpyro.plate(plate, size, dim=dim))
        numpyro.sample("choice", dist.Categorical(logits=logits).mask(valid), obs=choice)
