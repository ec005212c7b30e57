"""Each parameter's parameterisation chosen from the data: ``brl.fit(..., centered="auto")``.

A participant-level parameter ``raw_i ~ Normal(loc_i, sigma)`` can be sampled centred
(``raw_i`` itself) or non-centred (``z_i`` with ``raw_i = loc_i + sigma * z_i``). Both give the
same posterior; they differ in how well NUTS explores it. In the normal-normal model they are
mirror images (Papaspiliopoulos, Roberts & Skold 2007, *Statistical Science* 22, 59-73;
Betancourt & Girolami 2013, arXiv:1312.0906): with ``kappa_i = sigma**2 * I_i``, ``I_i`` the
information participant ``i``'s trials carry about ``raw_i``, the centred form's
autocorrelation is ``1 / (1 + kappa_i)`` and the non-centred form's ``kappa_i / (1 + kappa_i)``.
Few or uninformative trials, or a group scale that may be near 0, call for the non-centred form
(the centred one has a funnel and diverges: hBayesDM's example, 20 x 100); many informative
trials and a clearly positive scale call for the centred form (the non-centred one ties the
group location to every ``z_i``: 200 x 200 gave 2.4x the min-ESS per second centred;
``benchmarks/README.md``, "Centred or non-centred").

The choice, per parameter (:func:`centering_scores`):

1. the joint posterior mode of the non-centred model (:func:`bayesrl.approx.find_mode`);
2. each participant's ``I_i`` from the potential's second derivative in ``z_i`` there,
   ``1 + sigma**2 * I_i`` (participants are independent given the group, so one
   Hessian-vector product per parameter gives every participant's entry exactly), and the
   residual ``e_i`` of its own estimate from the location, ``raw_i - loc_i = sigma * z_i``
   moved by one Newton step of its likelihood alone (un-shrunk);
3. the posterior of ``sigma`` in the normal approximation ``e_i ~ Normal(0, sigma**2 + 1/I_i)``
   with the model's prior on ``sigma``, on a grid (the joint mode's ``sigma`` itself is biased
   upwards in the non-centred form: the ``z_i``'s prior pulls them in and ``sigma`` out);
4. the score: the non-centred autocorrelation ``kappa_i / (1 + kappa_i)`` averaged over that
   posterior and over participants. A score above :data:`THRESHOLD` (2/3) centres the
   parameter.

With ``sigma_by``, each level's ``sigma`` gets its own posterior. Condition offsets
(``p_cond_z``) stay non-centred. The choice affects how fast the sampler mixes, never the
posterior it targets.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from scipy import special

from .approx import find_mode
from .design import ParamDesign
from .hierarchy import SIGMA_FAMILIES

#: A parameter is centred when its score (the non-centred form's mean autocorrelation) exceeds
#: this: ``kappa = 2`` in the normal-normal model, the data's information about a participant
#: twice the group's prior precision. The crossing of the two forms' rates is at 0.5 (``kappa =
#: 1``), but the centred form's failure near ``sigma = 0`` (a funnel: divergences) costs NUTS
#: more than the non-centred form's slow mixing: on ``bandit2arm_delta`` data sets (one seed
#: each, 2026-12-07, ``benchmarks/README.md``) centring paid at scores 0.68-0.72 (50 x 200,
#: 20 x 200, 200 x 200) and cost at 0.51-0.64 (100 x 100, 100 x 150), a tie at 0.61 (200 x 100).
#: Over 3 seeds per data set (jax 0.10, 2026-12-07 night) centring everything was 0.66-1.49x
#: the non-centred form at scores 0.46-0.65, and auto's choice above the threshold 1.26-5.1x from
#: 10,000 choices on (2-armed 50 x 200 and 200 x 200, 4-armed 50 x 200).
THRESHOLD = 2.0 / 3.0

#: ``brl.fit``'s default (``centered=None``) chooses as ``"auto"`` does from this many observed
#: choices on (NUTS only), and samples every parameter non-centred below it. The choice costs
#: 0.5-5 s (a float64 L-BFGS, compiled once per shape); below about 10,000 choices a fit takes
#: seconds and centring gained little (``bandit2arm_delta``, jax 0.10, 3 seeds each, 2026-12-07:
#: min-ESS/s of auto's choice over the non-centred fit's 0.95-1.39 at 20 x 200, 1.26-1.39 at
#: 50 x 200; ``benchmarks/README.md``, "Centring by default from 10,000 choices").
AUTO_FROM = 10_000


def _sigma_posterior(e, v, family, scale, n_grid=400):
    """Grid and weights of ``sigma``'s posterior given residuals ``e`` with variances ``v`` (finite).

    ``family`` and ``scale`` are the model's prior on ``sigma`` (:data:`bayesrl.hierarchy.SIGMA_FAMILIES`).
    """
    spread = np.sqrt(np.mean(e**2)) if e.size else scale
    grid = np.geomspace(1e-4, 10.0 * max(scale, spread, 1e-3), n_grid)
    total = grid[:, None] ** 2 + v[None, :]
    log_prior = np.asarray(SIGMA_FAMILIES[family](scale).log_prob(grid), float)
    log_post = log_prior - 0.5 * np.sum(np.log(total) + e[None, :] ** 2 / total, axis=1)
    log_post += np.log(grid)  # the grid is even in log(sigma)
    return grid, np.exp(log_post - special.logsumexp(log_post))


def centering_scores(model, trials, priors, design=None, rng_key=None, participants=None, max_iter=5000):
    """Each parameter's score: the non-centred form's expected autocorrelation, averaged over participants.

    Parameters
    ----------
    model : bayesrl.Model
    trials : Trial NamedTuple, each field shape (participant, trial)
    priors : dict of str to Prior
    design : bayesrl.design.Design, optional
    rng_key : jax.random.PRNGKey, optional
        For the optimiser's start when the prior median is not finite.
    participants : sequence, optional
        Participant labels, for error messages.
    max_iter : int
        L-BFGS iterations at most.

    Returns
    -------
    dict of str to float
        Per parameter, in [0, 1): the mean over participants of ``kappa_i / (1 + kappa_i)``
        under the approximate posterior of ``sigma``. Above :data:`THRESHOLD` the centred
        form mixes faster.
    """
    rng_key = jax.random.PRNGKey(0) if rng_key is None else rng_key
    with jax.enable_x64(True):  # the same choice whatever precision the fit samples in (and L-BFGS to its end)
        potential, mode, unravel, _ = find_mode(
            (model, trials, priors, frozenset(), design), rng_key, participants=participants, max_iter=max_iter
        )
        sites = unravel(mode)
        grad = jax.grad(potential)
        curvature = jax.jit(lambda tangent: jax.jvp(grad, (mode,), (tangent,))[1])
        return _scores(model, priors, design, sites, unravel, curvature)


def _scores(model, priors, design, sites, unravel, curvature):
    """:func:`centering_scores` from the mode's sites and the potential's curvature there."""
    scores = {}
    for name in model.param_names:
        site = f"{name}_z"
        tangent, _ = ravel_pytree({k: (jnp.ones_like(v) if k == site else jnp.zeros_like(v)) for k, v in sites.items()})
        d = design.get(name) if design is not None else ParamDesign()
        z = np.asarray(sites[site], float)
        level = np.zeros(z.shape, int) if d.sigma_by is None else np.asarray(d.sigma_index, int)
        sigma = np.atleast_1d(np.exp(np.asarray(sites[f"{name}_sigma"], float)))[level]
        info = (np.asarray(unravel(curvature(tangent))[site], float) - 1.0) / sigma**2
        # a likelihood curving upwards at the mode carries no information there: rho stays 0
        informed = info > 0
        e = sigma * z + z / (sigma * np.where(informed, info, 1.0))  # un-shrunk: one Newton step
        rho = np.zeros(z.shape)
        for lv in np.unique(level):
            rows = (level == lv) & informed
            grid, w = _sigma_posterior(e[rows], 1.0 / info[rows], priors[name].sigma_family, priors[name].sigma_scale)
            kappa = grid[:, None] ** 2 * info[None, rows]
            rho[rows] = w @ (kappa / (1.0 + kappa))
        scores[name] = float(rho.mean())
    return scores


def choose_centered(model, trials, priors, design=None, rng_key=None, participants=None):
    """The parameters to centre: those whose :func:`centering_scores` score exceeds :data:`THRESHOLD`.

    Parameters
    ----------
    As :func:`centering_scores`.

    Returns
    -------
    centered : frozenset of str
    scores : dict of str to float
        :func:`centering_scores`' scores, what the choice was made from.
    """
    scores = centering_scores(model, trials, priors, design=design, rng_key=rng_key, participants=participants)
    return frozenset(name for name, s in scores.items() if s > THRESHOLD), scores
