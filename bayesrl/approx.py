"""Approximate inference: SVI with NumPyro autoguides, and MAP with a Laplace approximation.

Both end in a Gaussian ``q`` over the model's latent sites on the unconstrained scale (the
scale NUTS samples on; positive and bounded sites are log- or logit-transformed, with the
Jacobian in the density). Draws from ``q`` are constrained and the deterministic sites
(``alpha``, ``alpha_group``...) computed from them by the model itself, so a fit from an
approximation has the same posterior variables as a NUTS fit. Each draw also gets the log
importance ratio ``log p(z, y) - log q(z)``; the Pareto k of these ratios (Yao et al. 2018,
"Yes, but did it work?") says how far the approximation is from the posterior.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import scipy.optimize
from jax.flatten_util import ravel_pytree
from numpyro import optim
from numpyro.infer import SVI, Trace_ELBO, init_to_median, init_to_value
from numpyro.infer.autoguide import AutoLowRankMultivariateNormal, AutoNormal
from numpyro.infer.util import constrain_fn, potential_energy
from tqdm.auto import tqdm

from .hierarchy import hierarchical_model
from .inference import find_initial_params, model_of_data, trace_at

GUIDES = ("normal", "lowrank")


def elbo_convergence(losses, window: int | None = None) -> dict:
    """Relative change of the smoothed loss (negative ELBO) over the last window.

    The last ``2 * window`` losses are split in two halves; the change is the difference of
    their means relative to the mean of the last half, and it is compared with the noise of
    that difference (two standard errors of the means).

    Parameters
    ----------
    losses : array_like, shape (step,)
    window : int, optional
        Default: a tenth of the steps, at least 50 (at most half the steps).

    Returns
    -------
    dict
        ``window``, ``rel_change`` (previous window mean minus last, over abs(last); positive
        while the ELBO still improves) and ``rel_noise``.
    """
    losses = np.asarray(losses, float)
    n = losses.size
    if window is None:
        window = max(50, n // 10)
    window = int(min(window, n // 2))
    if window < 2 or not np.all(np.isfinite(losses[-2 * window :])):
        return {"window": window, "rel_change": float("nan"), "rel_noise": float("nan")}
    prev, last = losses[-2 * window : -window], losses[-window:]
    scale = abs(last.mean()) or 1.0
    noise = 2 * np.sqrt(prev.var(ddof=1) / window + last.var(ddof=1) / window)
    return {
        "window": window,
        "rel_change": float((prev.mean() - last.mean()) / scale),
        "rel_noise": float(noise / scale),
    }


def _latent_sites(numpyro_model, model_args) -> list[str]:
    """Names of the model's latent (sampled, not observed) sites."""
    tr = trace_at(numpyro_model, model_args, init_to_median(num_samples=15), jax.random.PRNGKey(0))
    return [name for name, s in tr.items() if s["type"] == "sample" and not s["is_observed"]]


def _draws_from_gaussian(numpyro_model, model_args, z, log_q, batch_size=64):
    """Constrained latents and deterministic sites of unconstrained draws, and log importance ratios.

    Parameters
    ----------
    z : dict of str to jax.Array, each shape (draw, ...)
        Unconstrained draws of every latent site.
    log_q : jax.Array, shape (draw,)
        Log density of each draw under the approximation (unconstrained scale).

    Returns
    -------
    samples : dict of str to numpy.ndarray, each shape (1, draw, ...)
    log_weight : numpy.ndarray, shape (draw,)
    log_p : numpy.ndarray, shape (draw,)
        Log joint density (unconstrained scale, with the Jacobian) of each draw.
    """

    def one(zi):
        values = constrain_fn(numpyro_model, model_args, {}, zi, return_deterministic=True)
        return values, -potential_energy(numpyro_model, model_args, {}, zi)

    values, log_p = jax.jit(lambda z: jax.lax.map(one, z, batch_size=batch_size))(z)
    log_p = np.asarray(log_p, float)
    samples = {k: np.asarray(v)[None] for k, v in values.items()}
    return samples, log_p - np.asarray(log_q, float), log_p


def _optimise(svi, model_args, rng_key, num_steps, progress_bar, learning_rate):
    """Run SVI in compiled chunks of steps (a ``lax.scan`` each), with a progress bar between chunks.

    NumPyro's own ``SVI.run`` with a progress bar stacks one array per step at the end, which
    takes minutes to compile for 10,000 steps; chunks keep one compiled program.

    Returns
    -------
    params : dict
        The guide's (constrained) parameters.
    losses : numpy.ndarray, shape (step,)
        Negative ELBO of every step.

    Raises
    ------
    FloatingPointError
        When the loss becomes non-finite.
    """
    chunk = max(d for d in range(1, min(num_steps, 200) + 1) if num_steps % d == 0)

    @jax.jit
    def steps(state):
        return jax.lax.scan(lambda st, _: svi.stable_update(st, *model_args), state, None, length=chunk)

    state = svi.init(rng_key, *model_args)
    losses = []
    bar = tqdm(total=num_steps, disable=not progress_bar, desc="SVI", mininterval=0.5)
    try:
        for i in range(num_steps // chunk):
            state, loss = steps(state)
            loss = np.asarray(loss, float)
            losses.append(loss)
            bad = np.flatnonzero(~np.isfinite(loss))
            if bad.size:
                raise FloatingPointError(
                    f"SVI: the ELBO became non-finite at step {i * chunk + int(bad[0])}; lower learning_rate "
                    f"(now {learning_rate:g})"
                )
            bar.update(chunk)
            bar.set_postfix_str(f"loss {loss.mean():.4g}", refresh=False)
    finally:
        bar.close()
    return svi.get_params(state), np.concatenate(losses)


def run_svi(
    model,
    trials,
    priors,
    *,
    centered=frozenset(),
    design=None,
    guide="normal",
    num_steps=10_000,
    learning_rate=0.01,
    num_draws=1000,
    rng_key=None,
    progress_bar=True,
    participants=None,
    tol=1e-3,
):
    """Fit a Gaussian approximation by stochastic variational inference (NumPyro autoguides).

    Parameters
    ----------
    model, trials, priors, centered
        As :func:`bayesrl.hierarchy.hierarchical_model`.
    guide : {"normal", "lowrank"}
        ``AutoNormal`` (mean-field: independent normals) or ``AutoLowRankMultivariateNormal``
        (correlations through a low-rank factor, rank ``sqrt(dimension)``).
    num_steps : int
        Adam steps (one-sample ELBO gradient each).
    learning_rate : float
    num_draws : int
        Draws from the fitted approximation.
    tol : float
        The ELBO counts as converged when its smoothed relative change over the last window
        (:func:`elbo_convergence`) is below ``tol`` or within its own noise.

    Returns
    -------
    samples : dict of str to numpy.ndarray, each shape (1, draw, ...)
    stats : dict of str to numpy.ndarray, each shape (1, draw)
        ``lp`` (log joint density), ``log_weight`` (log importance ratio).
    info : dict
        Guide, settings, final ELBO, convergence numbers, losses every ``num_steps // 200`` steps.

    Raises
    ------
    FloatingPointError
        When the ELBO becomes non-finite (lower the learning rate).
    """
    if guide not in GUIDES:
        raise ValueError(f"guide must be one of {list(GUIDES)}, got {guide!r}")
    model_args = (model, trials, priors, frozenset(centered), design)
    key_init, key_svi, key_draw = jax.random.split(rng_key, 3)
    _, start = find_initial_params(*model_of_data(*model_args), key_init, 1, participants=participants, dispersed=False)
    start = jax.tree_util.tree_map(lambda x: x[0], start)
    init_values = constrain_fn(hierarchical_model, model_args, {}, start)
    init_loc = init_to_value(values=init_values)
    if guide == "normal":
        auto = AutoNormal(hierarchical_model, init_loc_fn=init_loc)
    else:
        auto = AutoLowRankMultivariateNormal(hierarchical_model, init_loc_fn=init_loc)
    svi = SVI(hierarchical_model, auto, optim.Adam(learning_rate), Trace_ELBO())
    with jax.numpy_rank_promotion("allow"):  # NumPyro's guides broadcast implicitly
        params, losses = _optimise(svi, model_args, key_svi, int(num_steps), progress_bar, learning_rate)
    with jax.numpy_rank_promotion("allow"):
        if guide == "normal":
            sites = _latent_sites(hierarchical_model, model_args)
            loc = {k: params[f"{k}_{auto.prefix}_loc"] for k in sites}
            scale = {k: params[f"{k}_{auto.prefix}_scale"] for k in sites}
            flat_loc, unravel = ravel_pytree(loc)
            q = dist.Normal(flat_loc, ravel_pytree(scale)[0]).to_event(1)
            flat = q.sample(key_draw, (int(num_draws),))
            z = jax.vmap(unravel)(flat)
        else:
            q = auto.get_posterior(params)
            flat = q.sample(key_draw, (int(num_draws),))
            z = auto._unpack_latent(flat)
        log_q = q.log_prob(flat)
    samples, log_weight, log_p = _draws_from_gaussian(hierarchical_model, model_args, z, log_q)
    conv = elbo_convergence(losses)
    converged = bool(conv["rel_change"] < max(tol, conv["rel_noise"]))
    every = max(1, int(num_steps) // 200)
    info = {
        "guide": guide,
        "num_steps": int(num_steps),
        "learning_rate": float(learning_rate),
        "num_draws": int(num_draws),
        "elbo": float(-losses[-conv["window"] :].mean()),
        "elbo_converged": converged,
        "elbo_rel_change": conv["rel_change"],
        "elbo_rel_noise": conv["rel_noise"],
        "elbo_window": conv["window"],
        "elbo_tol": float(tol),
        "loss_every": every,
        "losses": losses[::every].tolist(),
    }
    return samples, {"lp": log_p[None], "log_weight": log_weight[None]}, info


def find_mode(model_args, rng_key, participants=None, max_iter=5000):
    """The posterior mode on the unconstrained scale, by L-BFGS (SciPy) from the prior median.

    Parameters
    ----------
    model_args : tuple
        ``(model, trials, priors, centered, design)``, the arguments of
        :func:`bayesrl.hierarchy.hierarchical_model`.
    rng_key : jax.random.PRNGKey
        For the start when the prior median is not a finite point
        (:func:`bayesrl.inference.find_initial_params`).
    participants : sequence, optional
        Participant labels, for error messages.
    max_iter : int
        L-BFGS iterations at most.

    Returns
    -------
    potential : callable
        Flat unconstrained vector, shape (n,) -> the potential energy (negative log joint
        density, Jacobian included), a scalar.
    mode : jax.Array, shape (n,)
        Where L-BFGS stopped.
    unravel : callable
        Flat vector -> dict of site name to unconstrained array.
    result : scipy.optimize.OptimizeResult
    """
    _, start = find_initial_params(*model_of_data(*model_args), rng_key, 1, participants=participants, dispersed=False)
    start = jax.tree_util.tree_map(lambda x: x[0], start)
    x0, unravel = ravel_pytree(start)
    dtype = x0.dtype

    def potential(x):
        return potential_energy(hierarchical_model, model_args, {}, unravel(x))

    value_and_grad = jax.jit(jax.value_and_grad(potential))

    def fun(x):
        v, g = value_and_grad(jnp.asarray(x, dtype))
        return float(v), np.asarray(g, float)

    res = scipy.optimize.minimize(
        fun, np.asarray(x0, float), jac=True, method="L-BFGS-B", options={"maxiter": max_iter}
    )
    return potential, jnp.asarray(res.x, dtype), unravel, res


def run_map(
    model,
    trials,
    priors,
    *,
    centered=frozenset(),
    design=None,
    num_draws=1000,
    rng_key=None,
    participants=None,
    max_iter=5000,
):
    """The posterior mode on the unconstrained scale, and a Laplace approximation around it.

    L-BFGS (SciPy) minimises the potential (negative log joint density on the unconstrained
    scale, Jacobian included) from the prior median; the Hessian there (JAX, exact) is the
    precision of the Gaussian ``q`` that draws come from.

    Parameters
    ----------
    model, trials, priors, centered
        As :func:`bayesrl.hierarchy.hierarchical_model`.
    num_draws : int
    max_iter : int
        L-BFGS iterations at most.

    Returns
    -------
    samples : dict of str to numpy.ndarray, each shape (1, draw, ...)
    stats : dict of str to numpy.ndarray, each shape (1, draw)
        ``lp`` (log joint density), ``log_weight`` (log importance ratio).
    info : dict
        Optimiser result (``converged``, ``iterations``, ``message``), the log density at the
        mode, the Hessian's smallest eigenvalue and whether it is positive definite.
    """
    model_args = (model, trials, priors, frozenset(centered), design)
    key_init, key_draw = jax.random.split(rng_key)
    f, mode, unravel, res = find_mode(model_args, key_init, participants=participants, max_iter=max_iter)
    # float32 line searches often stop "abnormally" at the optimum: judge by the gradient too
    max_grad = float(np.max(np.abs(res.jac))) if np.size(res.jac) else 0.0
    hessian = np.asarray(jax.jit(jax.hessian(f))(mode), float)
    precision, lap = laplace_precision(hessian)
    worst = _flat_names(unravel(mode))[lap["worst_index"]] if not lap["positive_definite"] else ""
    with jax.numpy_rank_promotion("allow"):  # NumPyro's distributions broadcast implicitly
        q = dist.MultivariateNormal(mode, precision_matrix=jnp.asarray(precision, mode.dtype))
        flat = q.sample(key_draw, (int(num_draws),))
        log_q = q.log_prob(flat)
    z = jax.vmap(unravel)(flat)
    samples, log_weight, log_p = _draws_from_gaussian(hierarchical_model, model_args, z, log_q)
    info = {
        "num_draws": int(num_draws),
        "converged": bool(res.success or max_grad < 1e-2),
        "max_abs_gradient": max_grad,
        "iterations": int(res.nit),
        "message": str(res.message),
        "log_density_at_mode": float(-res.fun),
        "hessian_min_eigenvalue": lap["min_eigenvalue"],
        "hessian_positive_definite": lap["positive_definite"],
        "hessian_worst_site": worst,
    }
    return samples, {"lp": log_p[None], "log_weight": log_weight[None]}, info


def laplace_precision(hessian) -> tuple[np.ndarray, dict]:
    """The precision matrix of the Laplace approximation from the Hessian at the mode.

    A positive definite Hessian is used as it is. Otherwise (a saddle point or a flat
    direction) each eigenvalue is replaced by its absolute value, at least ``1e-8`` times the
    largest, so that the Gaussian exists; the caller warns.

    Parameters
    ----------
    hessian : numpy.ndarray, shape (dim, dim)
        Hessian of the negative log density (unconstrained scale).

    Returns
    -------
    precision : numpy.ndarray, shape (dim, dim)
    info : dict
        ``min_eigenvalue`` (of the symmetrised Hessian), ``positive_definite`` and
        ``worst_index`` (the coordinate with the largest weight in the eigenvector of the
        smallest eigenvalue).
    """
    hessian = np.asarray(hessian, float)
    hessian = (hessian + hessian.T) / 2
    if not np.all(np.isfinite(hessian)):
        eigval, eigvec = np.full(len(hessian), np.nan), np.eye(len(hessian))
    else:
        eigval, eigvec = np.linalg.eigh(hessian)
    positive = bool(np.all(np.isfinite(eigval)) and eigval.min() > 0)
    info = {
        "min_eigenvalue": float(np.nanmin(eigval)) if np.isfinite(eigval).any() else float("nan"),
        "positive_definite": positive,
        "worst_index": int(np.argmax(np.abs(eigvec[:, int(np.nanargmin(eigval)) if np.isfinite(eigval).any() else 0]))),
    }
    if positive:
        return hessian, info
    fixed = np.abs(np.nan_to_num(eigval, nan=1.0))
    fixed = np.maximum(fixed, 1e-8 * max(fixed.max(), 1.0))
    return (eigvec * fixed) @ eigvec.T, info


def _flat_names(tree) -> list[str]:
    """A label for each element of ``ravel_pytree(tree)``: site name and index."""
    out = []
    for name in sorted(tree):
        size = int(np.size(tree[name]))
        out += [name] if size == 1 else [f"{name}[{i}]" for i in range(size)]
    return out


def pareto_k(log_weight) -> float:
    """Pareto k of importance ratios (PSIS; ArviZ), from their logs, shape (draw,).

    Computed as the Pareto k of a one-unit PSIS-LOO whose "log-likelihood" is
    ``-log_weight`` (LOO's importance ratios are ``1 / p(y | draw)``), which ArviZ 0.2x and
    1.x both provide.
    """
    from . import _arviz

    log_weight = np.asarray(log_weight, float).reshape(-1)
    if not np.all(np.isfinite(log_weight)):
        return float("inf")
    data = _arviz.from_dict(
        {"posterior": {"_": np.zeros((1, log_weight.size))}, "log_likelihood": {"w": -log_weight[None, :, None]}},
        coords={"unit": [0]},
        dims={"w": ["unit"]},
    )
    with _arviz.quiet_logs():  # one chain of independent draws: ArviZ's shape check does not apply
        return float(_arviz.pointwise_loo(data, var_name="w")[1][0])


def approximation_warnings(method: str, info: dict) -> list[str]:
    """Plain-language problems of an SVI or MAP/Laplace fit (empty when none)."""
    msgs = []
    if method == "svi" and not info.get("elbo_converged", True):
        msgs.append(
            f"SVI has not converged: the smoothed ELBO still changed by {info['elbo_rel_change']:.2g} (relative) "
            f"over the last {info['elbo_window']} of {info['num_steps']} steps (tolerance {info['elbo_tol']:g}). "
            f"Run more steps (num_steps=...), or change learning_rate (now {info['learning_rate']:g}; lower it if "
            f"the ELBO jumps about, raise it if it creeps); plot fit.metadata['sampler']['losses'] to see."
        )
    if method == "map":
        if not info.get("converged", True):
            msgs.append(
                f"MAP optimisation did not converge ({info['message']}); the mode and the Laplace approximation "
                f"around it may be wrong: try method='svi' or 'nuts'."
            )
        if not info.get("hessian_positive_definite", True):
            msgs.append(
                f"the Hessian of the negative log density at the mode is not positive definite (smallest eigenvalue "
                f"{info['hessian_min_eigenvalue']:.3g}, mostly along {info['hessian_worst_site']!r}): the optimum is "
                f"a saddle or flat there, so the Laplace approximation is not a proper Gaussian; its eigenvalues "
                f"were replaced by their absolute values. Do not trust its uncertainty: use method='svi' or 'nuts'."
            )
    return msgs
