"""NUTS over the hierarchical model, and per-trial log-likelihoods of the draws."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.infer import MCMC, NUTS

from . import engine
from ._runtime import HOW_TO
from .design import trial_values
from .hierarchy import hierarchical_model

#: NumPyro extra fields kept as ArviZ sample_stats (arviz name -> numpyro field).
_EXTRA = {
    "diverging": "diverging",
    "n_steps": "num_steps",
    "acceptance_rate": "accept_prob",
    "lp": "potential_energy",
    "energy": "energy",
    "step_size": "adapt_state.step_size",
}


def choose_chain_method(num_chains: int, chain_method: str | None) -> str:
    """``parallel`` when JAX has a device per chain, else ``vectorized`` (unless given)."""
    n_dev = jax.local_device_count()
    if chain_method is None:
        return "parallel" if num_chains > 1 and n_dev >= num_chains else "vectorized"
    if chain_method not in ("parallel", "vectorized", "sequential"):
        raise ValueError(f"chain_method must be 'parallel', 'vectorized' or 'sequential', got {chain_method!r}")
    if chain_method == "parallel" and n_dev < num_chains:
        warnings.warn(
            f"chain_method='parallel' with {num_chains} chains but JAX has {n_dev} device(s): NumPyro "
            f"would run the chains one after another. {HOW_TO}",
            stacklevel=3,
        )
    return chain_method


def run_nuts(
    model,
    trials,
    priors,
    *,
    centered=frozenset(),
    num_warmup=1000,
    num_samples=1000,
    num_chains=4,
    chain_method=None,
    target_accept=0.8,
    max_tree_depth=10,
    rng_key=None,
    progress_bar=True,
    design=None,
):
    """Sample the hierarchical model with NUTS (``design``: a :class:`bayesrl.design.Design` or None).

    Returns
    -------
    samples : dict of str to numpy.ndarray, each shape (chain, draw, ...)
    stats : dict of str to numpy.ndarray, each shape (chain, draw)
    info : dict
        ``chain_method`` used and the NUTS settings.
    """
    method = choose_chain_method(num_chains, chain_method)
    kernel = NUTS(hierarchical_model, target_accept_prob=target_accept, max_tree_depth=max_tree_depth)
    mcmc = MCMC(
        kernel,
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        chain_method=method,
        progress_bar=progress_bar,
    )
    mcmc.run(rng_key, model, trials, priors, frozenset(centered), design, extra_fields=tuple(_EXTRA.values()))
    samples = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    extra = mcmc.get_extra_fields(group_by_chain=True)
    stats = {name: np.asarray(extra[field]) for name, field in _EXTRA.items()}
    stats["lp"] = -stats["lp"]
    stats["tree_depth"] = np.floor(np.log2(np.maximum(stats["n_steps"], 1))).astype(int) + 1
    info = {"chain_method": method, "target_accept": target_accept, "max_tree_depth": max_tree_depth}
    return samples, stats, info


def pointwise_log_likelihood(model, samples, trials, batch_size=64, condition_index=None, by_stage=False):
    """Per-trial log-likelihood of every draw.

    Parameters
    ----------
    model : bayesrl.Model
    samples : dict with each parameter's draws, shape (chain, draw, participant), or (chain,
        draw, participant, condition) for a parameter in ``condition_index``
    trials : Trial NamedTuple, each field shape (participant, trial)
    condition_index : dict of str to int array, each shape (participant, trial), optional
        Each trial's condition, per parameter with conditions.
    by_stage : bool, default False
        Keep the stages apart (:func:`bayesrl.engine.stage_log_likelihood`).

    Returns
    -------
    numpy.ndarray, shape (chain, draw, participant, trial)
        Summed over a staged model's stages; with ``by_stage``, shape
        (chain, draw, participant, trial, stage).
    """
    score = engine.stage_log_likelihood if by_stage else engine.log_likelihood
    first = samples[model.param_names[0]]
    n_c, n_d = first.shape[:2]
    flat = {k: jnp.asarray(samples[k]).reshape((n_c * n_d,) + samples[k].shape[2:]) for k in model.param_names}

    @jax.jit
    def run(flat_params):
        return jax.lax.map(
            lambda p: score(model, model.make_params(trial_values(p, condition_index or {})), trials),
            flat_params,
            batch_size=batch_size,
        )

    out = np.asarray(run(flat))
    return out.reshape((n_c, n_d) + out.shape[1:])
