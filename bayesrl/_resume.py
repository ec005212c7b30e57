"""Continue a NUTS fit from its stored last state (:meth:`bayesrl.Fit.resume`)."""

from __future__ import annotations

import copy
import time

import jax
import numpy as np

from . import _arviz
from .inference import pointwise_log_likelihood, run_nuts, state_from_dataset, state_to_dataset
from .results import STATE_GROUP, Fit, build_idata
from .transforms import Prior


def resume(fit: Fit, num_samples: int, *, seed=None, progress_bar=True, check=True) -> Fit:
    """See :meth:`bayesrl.Fit.resume`."""
    sampler = fit.metadata["sampler"]
    if fit.method != "nuts":
        raise ValueError(f"only NUTS fits can be resumed; this fit was made by {fit.method!r}")
    if int(num_samples) != num_samples or num_samples < 1:
        raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}")
    if STATE_GROUP not in _arviz.groups(fit.idata):
        raise ValueError(
            "this fit has no stored sampler state (it was saved by a bayesrl version without resume); run brl.fit again"
        )
    model = fit.model
    if model is None:
        raise ValueError(
            f"resuming needs the model's functions, which a saved custom model does not store: load the fit "
            f"with brl.load_fit(path, model=...) (model {fit.metadata['model']['name']!r})"
        )
    priors = {p: Prior(**info["prior"]) for p, info in fit.metadata["model"]["params"].items()}
    centered = frozenset(sampler.get("centered", ()))
    num_chains, num_warmup = int(sampler["num_chains"]), int(sampler["num_warmup"])
    trials = fit.data.trials(model)
    state = state_from_dataset(
        _arviz.group(fit.idata, STATE_GROUP),
        model,
        trials,
        priors,
        centered=centered,
        num_warmup=num_warmup,
        num_chains=num_chains,
        rng_key=jax.random.PRNGKey(0),
        design=fit.design,
    )
    shards = int(sampler.get("participant_shards", 1))
    start = time.perf_counter()
    samples, stats, info, last = run_nuts(
        model,
        trials,
        priors,
        centered=centered,
        num_warmup=num_warmup,
        num_samples=int(num_samples),
        num_chains=num_chains,
        chain_method=sampler.get("chain_method"),
        target_accept=sampler.get("target_accept", 0.8),
        max_tree_depth=sampler.get("max_tree_depth", 10),
        rng_key=None if seed is None else jax.random.PRNGKey(int(seed)),
        progress_bar=progress_bar,
        participants=fit.data.participants,
        state=state,
        design=fit.design,
        shards=shards if shards <= len(jax.devices()) else 1,  # fewer devices now: draws equal up to rounding
        trial_length=sampler.get("padded_trials"),  # the first run's shape: the same draws as a longer run
    )
    elapsed = time.perf_counter() - start
    index = None if fit.design is None else fit.design.condition_index
    log_lik = pointwise_log_likelihood(model, samples, trials, condition_index=index)

    post = fit.posterior
    old_stats = _arviz.group(fit.idata, "sample_stats")
    old_ll = np.asarray(
        _arviz.group(fit.idata, "log_likelihood")["choice"].transpose("chain", "draw", "participant", "trial")
    )

    def joined(old, new):
        return np.concatenate([np.asarray(old), np.asarray(new).astype(np.asarray(old).dtype)], axis=1)

    samples = {k: joined(post[k].transpose("chain", "draw", ...), v) for k, v in samples.items()}
    stats = {k: joined(old_stats[k].transpose("chain", "draw"), v) for k, v in stats.items()}
    metadata = copy.deepcopy(fit.metadata)
    meta = metadata["sampler"]
    meta["resumed"] = [*meta.get("resumed", []), {"num_samples": int(num_samples), "seed": seed, "seconds": elapsed}]
    meta["num_samples"] = int(meta["num_samples"]) + int(num_samples)
    meta["sampling_seconds"] = float(meta.get("sampling_seconds", 0.0)) + elapsed
    idata = build_idata(
        model, fit.data, samples, stats, joined(old_ll, log_lik), metadata, design=fit.design,
        state=state_to_dataset(last),
    )  # fmt: skip
    result = Fit(idata, model, fit.data, metadata, design=fit.design)
    if check:
        result.diagnostics(warn=True)
    return result
