r"""A held-out participant's predictive density: integrated importance sampling and exact refits.

:func:`bayesrl.compare` uses this when PSIS-LOO is unreliable for a participant (high Pareto
k) and for grouped K-fold. :func:`integrated_log_lik` gives each participant's likelihood
with their own parameters integrated out, for PSIS over the group-level draws only (no
refit). An exact refit holds participants out and refits; for a held-out participant ``i``
and the refit's group-level draws ``s = 1..S``,

.. math::

    \log p(y_i \mid y_{-i}) \approx \log \frac{1}{S M} \sum_{s=1}^{S} \sum_{m=1}^{M}
    p(y_i \mid \theta_{sm}), \qquad \theta_{sm} = f(\mu_{is} + \sigma_{is} \varepsilon_{sm}),
    \quad \varepsilon_{sm} \sim N(0, 1),

a Monte Carlo estimate of ``p(y_i | group_s) = integral of p(y_i | theta) N(theta_raw; mu_is,
sigma_is) dtheta`` averaged over the group posterior (computed with ``logsumexp``, vectorised
over draws). Its Monte Carlo standard error is reported with it.

The participant's prior (:func:`participant_prior`) is the hierarchy's
(:func:`bayesrl.hierarchy.hierarchical_model`): location ``mu_is = p_mu`` or, with a formula,
``X[i] @ p_beta``; scale ``sigma_is = p_sigma`` or, with ``sigma_by``, the sigma of the
participant's level; with conditions, each non-reference condition ``c`` adds an offset
``p_cond[c] + p_cond_sigma[c] * eps_c`` with its own standard normal ``eps_c``, and each trial
takes the value of its condition.

Held-out participants are *masked* (every trial made invalid) rather than removed: the masked
participant's own ``z`` (and condition ``z``) are then standard normals independent of
everything else, so the posterior of the group parameters is exactly the posterior given the
other participants (their covariates stay in the design: covariates are conditioned on, not
predicted), and every refit has the same array shapes. The data enter NumPyro as traced
arguments (``jit_model_args=True``, chains vectorised: NumPyro's parallel chains would close
over the data and compile again for every refit), so one compiled sampler serves every refit of
a model (and JAX's persistent cache serves later sessions).
"""

from __future__ import annotations

import functools
import warnings
import weakref

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.infer import MCMC, NUTS
from scipy.special import logsumexp

from . import _arviz, engine
from .design import ParamDesign, group_sites, trial_values
from .hierarchy import hierarchical_model
from .transforms import Prior


def group_site_names(model, design) -> list[str]:
    """The sampled group-level sites a participant's prior is built from (see :func:`participant_prior`)."""
    return [s for s in group_sites(model, design) if not s.endswith("_group")]


def participant_prior(model, design, draws: dict, i: int):
    """Participant ``i``'s prior given each group-level draw, on the unconstrained scale.

    Parameters
    ----------
    model : bayesrl.Model
    design : bayesrl.design.Design or None
    draws : dict of str to numpy.ndarray
        The sites of :func:`group_site_names`, each shape (chain, draw, ...) (``p_beta``:
        (chain, draw, coef); ``p_sigma`` with ``sigma_by``: (chain, draw, level); ``p_cond`` and
        ``p_cond_sigma``: (chain, draw, offset)).
    i : int
        Participant index.

    Returns
    -------
    prior : dict of str to tuple of jax.Array
        Per parameter ``(loc, scale, offset_loc, offset_scale)``: ``loc`` and ``scale`` of shape
        (draw,) (chains and draws flattened), the condition offsets' of shape (draw, offset)
        (``offset`` = 0 without conditions).
    conditions : dict of str to jax.Array, each shape (trial,)
        Each trial's condition of participant ``i``, per parameter with conditions.
    """
    prior, conditions = {}, {}
    for p in model.param_names:
        d = design.get(p) if design is not None else ParamDesign()
        if d.formula:
            beta = np.asarray(draws[f"{p}_beta"])
            loc = beta.reshape(-1, beta.shape[-1]) @ np.asarray(d.X[i], dtype=beta.dtype)
        else:
            loc = np.asarray(draws[f"{p}_mu"]).reshape(-1)
        sigma = np.asarray(draws[f"{p}_sigma"])
        if d.sigma_by:
            scale = sigma.reshape(-1, sigma.shape[-1])[:, int(d.sigma_index[i])]
        else:
            scale = sigma.reshape(-1)
        if d.condition:
            n_off = d.n_conditions - 1
            off_loc = np.asarray(draws[f"{p}_cond"]).reshape(-1, n_off)
            off_scale = np.asarray(draws[f"{p}_cond_sigma"]).reshape(-1, n_off)
            conditions[p] = jnp.asarray(design.condition_index[p][i])
        else:
            off_loc = off_scale = np.zeros((loc.shape[0], 0), dtype=loc.dtype)
        prior[p] = tuple(jnp.asarray(x) for x in (loc, scale, off_loc, off_scale))
    return prior, conditions


@functools.partial(jax.jit, static_argnums=(0, 4))
def heldout_log_lik(model, prior, trials, conditions, mc_draws, key):
    """Log-likelihood of one participant's trials at parameters drawn from their prior.

    Parameters
    ----------
    model : bayesrl.Model
    prior : dict of str to tuple of jax.Array
        From :func:`participant_prior`: per parameter ``(loc, scale, offset_loc,
        offset_scale)``, shapes (draw,), (draw,), (draw, offset), (draw, offset).
    trials : Trial NamedTuple, each field shape (trial,)
        The participant's trials.
    conditions : dict of str to int jax.Array, each shape (trial,)
        Each trial's condition, per parameter with conditions (empty without).
    mc_draws : int
        Draws ``M`` of the participant's parameters per group draw.
    key : jax.random key

    Returns
    -------
    jax.Array, shape (draw, mc_draws)
        ``sum_t log p(y_t | theta_sm)`` with ``theta_sm = f(loc_s + scale_s * eps_sm)`` (plus,
        on a trial of a non-reference condition ``c``, ``offset_loc_sc + offset_scale_sc *
        eps_smc``).
    """
    names = model.param_names
    n_draws = prior[names[0]][0].shape[0]
    dtype = prior[names[0]][0].dtype
    eps = jax.random.normal(key, (len(names), n_draws, mc_draws), dtype=dtype)
    off_key = jax.random.fold_in(key, 1)
    raw = {}
    for j, n in enumerate(names):
        loc, scale, off_loc, off_scale = prior[n]
        value = (loc[:, None] + scale[:, None] * eps[j]).reshape(-1)
        n_off = off_loc.shape[-1]
        if n_off:
            e = jax.random.normal(jax.random.fold_in(off_key, j), (n_draws, mc_draws, n_off), dtype=dtype)
            offsets = (off_loc[:, None, :] + off_scale[:, None, :] * e).reshape(-1, n_off)
            value = jnp.concatenate([value[:, None], value[:, None] + offsets], axis=1)  # (draw * M, condition)
        raw[n] = value

    def one(values):
        natural = {n: model.params[n].constrain(values[n]) for n in names}
        params = model.make_params(trial_values(natural, conditions))
        return engine.participant_log_likelihood(model, params, trials).sum()

    return jax.lax.map(one, raw, batch_size=512).reshape(n_draws, mc_draws)


def _group_draws(fit) -> dict:
    """The fit's group-level posterior draws, each shape (chain, draw, ...)."""
    post = fit.posterior
    return {s: np.asarray(post[s].transpose("chain", "draw", ...)) for s in group_site_names(fit.model, fit.design)}


def integrated_log_lik(fit, participants, mc_draws: int = 100, seed: int = 0) -> np.ndarray:
    """Each participant's log-likelihood with their own parameters integrated out, per posterior draw.

    ``log p(y_i | group_s)`` for every draw ``s`` of the fit's posterior, by Monte Carlo over
    ``mc_draws`` draws of the participant's parameters from their prior given the group-level
    draw (:func:`participant_prior`: the design's location, scale and condition offsets). PSIS-LOO
    on these (instead of on ``log p(y_i | theta_i,s)``) leaves a participant out by
    reweighting the group-level draws only, which a single participant moves little: its
    Pareto k is usually far lower (Vehtari et al. 2016; Merkle et al. 2019).

    Parameters
    ----------
    fit : bayesrl.Fit
    participants : sequence of int
        Participant indices.
    mc_draws : int
    seed : int

    Returns
    -------
    numpy.ndarray, shape (chain, draw, len(participants))
    """
    model = fit.model
    if model is None:
        raise ValueError(
            f"integrating over participants' parameters needs the model's functions: load the fit with "
            f"brl.load_fit(path, model=...) (model {fit.metadata['model']['name']!r})"
        )
    draws = _group_draws(fit)
    shape = next(iter(draws.values())).shape[:2]
    trials = fit.data.trials(model)
    key = jax.random.fold_in(jax.random.PRNGKey(int(seed)), 7_919)  # not a refit's stream
    out = []
    for i in participants:
        trials_i = jax.tree_util.tree_map(lambda a, i=i: a[i], trials)
        prior, conditions = participant_prior(model, fit.design, draws, int(i))
        k = jax.random.fold_in(key, int(i))
        ll = np.asarray(heldout_log_lik(model, prior, trials_i, conditions, int(mc_draws), k))
        out.append(logsumexp(ll, axis=1) - np.log(mc_draws))
    return np.stack(out, axis=-1).reshape(shape + (len(out),))


def log_mean_exp(ll) -> tuple[float, float]:
    """``log mean exp`` of log-likelihood draws, with its Monte Carlo standard error.

    Parameters
    ----------
    ll : array_like, shape (chain, draw, mc_draws)

    Returns
    -------
    estimate : float
        ``logsumexp(ll) - log(ll.size)``.
    mcse : float
        Delta-method standard error ``sd(w) / (sqrt(ess) * mean(w))`` of the estimate, where
        ``w`` is each posterior draw's mean likelihood over ``mc_draws`` and ``ess`` its
        effective sample size over chains and draws. It is itself an estimate: when a few
        draws dominate ``w`` it understates the error.
    """
    ll = np.asarray(ll, dtype=float)
    est = float(logsumexp(ll) - np.log(ll.size))
    w = np.exp(ll - ll.max()).mean(axis=-1)  # (chain, draw)
    if w.size < 2 or np.ptp(w) == 0:
        return est, 0.0
    ess = _arviz.ess_array(w) if w.shape[0] * w.shape[1] >= 8 else float(w.size)
    ess = float(np.clip(np.nan_to_num(ess, nan=1.0), 1.0, w.size))
    return est, float(w.std(ddof=1) / np.sqrt(ess) / w.mean())


class Refitter:
    """Refits one fitted model with participants held out, reusing one compiled sampler.

    Get one with :func:`refitter` (one per fit, so repeated comparisons reuse the compiled
    sampler and the refits already run).

    Parameters
    ----------
    fit : bayesrl.Fit
        A NUTS fit; its model, priors and sampler settings (``fit.metadata``) are reused.
    progress_bar : bool
    """

    def __init__(self, fit, *, progress_bar: bool = False):
        sampler = fit.metadata["sampler"]
        if sampler.get("method", "nuts") != "nuts":
            raise ValueError(f"refits need a NUTS fit; this fit used {sampler.get('method')!r}")
        if fit.model is None:
            raise ValueError(
                f"refitting needs the model's functions, which a saved custom model does not store: load "
                f"the fit with brl.load_fit(path, model=...) (model {fit.metadata['model']['name']!r})"
            )
        # no reference to ``fit`` itself: refitters are cached per fit in a WeakKeyDictionary
        self.name = fit.metadata["model"]["name"]
        self.model = model = fit.model
        self.trials = fit.data.trials(model)
        self.design = design = fit.design
        priors = {p: Prior(**info["prior"]) for p, info in fit.metadata["model"]["params"].items()}
        centered = frozenset(sampler.get("centered", ()))

        def numpyro_model(trials):
            hierarchical_model(model, trials, priors, centered, design)

        kernel = NUTS(
            numpyro_model,
            target_accept_prob=sampler.get("target_accept", 0.8),
            max_tree_depth=sampler.get("max_tree_depth", 10),
        )
        self.mcmc = MCMC(
            kernel,
            num_warmup=int(sampler["num_warmup"]),
            num_samples=int(sampler["num_samples"]),
            num_chains=int(sampler["num_chains"]),
            chain_method="vectorized",
            progress_bar=progress_bar,
            jit_model_args=True,
        )
        self._draws = {}  # (held-out indices, seed) -> (group draws, divergences)

    def _key(self, heldout, seed):
        key = jax.random.PRNGKey(int(seed))
        for i in heldout:
            key = jax.random.fold_in(key, int(i))
        return key

    def group_draws(self, heldout, seed: int = 0) -> tuple[dict, int]:
        """Refit without the participants ``heldout`` (indices) and return group-level draws.

        The refit's random key depends on ``seed`` and the held-out participants only, and
        results are kept: the same refit is never run twice.

        Returns
        -------
        draws : dict of str to numpy.ndarray, each shape (chain, draw, ...)
            The group-level sites of :func:`group_site_names`: ``<p>_mu`` (or ``<p>_beta`` with
            a formula) and ``<p>_sigma`` for every parameter, ``<p>_cond`` and
            ``<p>_cond_sigma`` for one with conditions.
        divergences : int
        """
        heldout = tuple(sorted(int(i) for i in heldout))
        memo = (heldout, int(seed))
        if memo not in self._draws:
            valid = np.asarray(self.trials.valid).copy()
            valid[list(heldout)] = False
            trials = self.trials._replace(valid=jnp.asarray(valid))
            key = jax.random.split(self._key(heldout, seed))[0]
            self.mcmc.run(key, trials, extra_fields=("diverging",))
            samples = self.mcmc.get_samples(group_by_chain=True)
            div = int(np.asarray(self.mcmc.get_extra_fields(group_by_chain=True)["diverging"]).sum())
            draws = {s: np.asarray(samples[s]) for s in group_site_names(self.model, self.design)}
            self._draws[memo] = (draws, div)
        return self._draws[memo]

    def score(self, i: int, draws: dict, heldout, seed: int = 0, mc_draws: int = 100) -> tuple[float, float]:
        """``log p(y_i | group draws)`` of participant ``i`` and its Monte Carlo standard error.

        Parameters
        ----------
        i : int
            Participant index.
        draws : dict
            From :meth:`group_draws` (``heldout`` and ``seed`` as given there).
        heldout : sequence of int
        seed : int
        mc_draws : int
            Draws of the participant's parameters per group draw.
        """
        shape = next(iter(draws.values())).shape[:2]
        prior, conditions = participant_prior(self.model, self.design, draws, int(i))
        trials_i = jax.tree_util.tree_map(lambda a: a[i], self.trials)
        key = jax.random.fold_in(jax.random.split(self._key(sorted(heldout), seed))[1], int(i))
        ll = np.asarray(heldout_log_lik(self.model, prior, trials_i, conditions, int(mc_draws), key))
        return log_mean_exp(ll.reshape(shape + (int(mc_draws),)))

    def heldout_elpd(self, folds, seed: int = 0, mc_draws: int = 100) -> tuple[np.ndarray, np.ndarray]:
        """Exact cross-validated elpd of the participants in ``folds``.

        Parameters
        ----------
        folds : list of sequences of int
            Participant indices held out together in each refit.
        seed : int
        mc_draws : int

        Returns
        -------
        elpd, mcse : numpy.ndarray, shape (participant,)
            NaN for participants in no fold.
        """
        n = int(self.trials.valid.shape[0])
        elpd, mcse = np.full(n, np.nan), np.full(n, np.nan)
        divergences = 0
        for heldout in folds:
            draws, div = self.group_draws(heldout, seed)
            divergences += div
            for i in heldout:
                elpd[i], mcse[i] = self.score(int(i), draws, heldout, seed, mc_draws)
        if divergences:
            warnings.warn(
                f"refits of {self.name!r}: {divergences} divergent transitions; the held-out estimates may be "
                f"biased (refit the model with a higher target_accept).",
                UserWarning,
                stacklevel=4,  # the caller of brl.compare
            )
        return elpd, mcse


_REFITTERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def refitter(fit, progress_bar: bool = False) -> Refitter:
    """The :class:`Refitter` of ``fit`` (created once per fit and kept while the fit lives)."""
    r = _REFITTERS.get(fit)
    if r is None:
        r = _REFITTERS[fit] = Refitter(fit, progress_bar=progress_bar)
    r.mcmc.progress_bar = progress_bar
    return r
