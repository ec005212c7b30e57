"""NUTS over many same-shaped data sets at once (model recovery, SBC).

:func:`bayesrl.fit` closes NumPyro's model over one data set, so every data set compiles the
sampler again, and on a CPU a small fit spends most of its time in per-step overhead. Here
NumPyro's NUTS kernel is ``vmap``-ped over lanes, one lane per (data set, chain): each lane
runs its own initialisation, warm-up adaptation (step size, mass matrix) and trees, exactly
as a separate fit would, but all lanes advance together in one compiled program (a lane that
finishes its tree early waits for the others). The data and the group priors' numbers are
arguments of that program, so it is compiled once per model, shape and sampler settings and
reused for every batch of data sets.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.infer import NUTS

from .engine import has_gaps, starts_blocks
from .hierarchy import hierarchical_model
from .inference import _EXTRA, START_RADIUS, init_around_median, pointwise_log_likelihood
from .results import Fit, build_idata
from .transforms import Prior

_NUMBERS = ("mu_loc", "mu_scale", "sigma_scale")


def prior_numbers(priors: dict) -> dict:
    """The numeric fields of each :class:`~bayesrl.transforms.Prior`.

    Returns
    -------
    dict of str to jax.Array, each shape (3,)
        ``(mu_loc, mu_scale, sigma_scale)`` per parameter.
    """
    return {p: jnp.asarray([float(getattr(v, f)) for f in _NUMBERS]) for p, v in priors.items()}


def _stat(state, field: str):
    value = state
    for part in field.split("."):
        value = getattr(value, part)
    return value


_PROGRAMS: dict = {}


def _model_key(model):
    """Library models with equal names and options are the same functions: share their programs."""
    from .models._registry import can_rebuild

    if model.options and can_rebuild(model.name):
        try:
            return ("library", model.name, tuple(sorted(model.options.items())))
        except TypeError:  # unorderable or unhashable options
            return model
    return model


def _program(model, *settings):
    """The compiled batch sampler of one model and settings, built once per process."""
    key = (_model_key(model), *settings)
    try:
        hash(key)
    except TypeError:  # options holding dicts (composed models): one program per model object
        key = (model, *settings)
    if key not in _PROGRAMS:
        _PROGRAMS[key] = _build_program(model, *settings)
    return _PROGRAMS[key]


def _build_program(
    model, families, centered, num_warmup, num_samples, target_accept, max_tree_depth, sites, resets, gaps
):
    families = dict(families)

    def numpyro_model(trials, numbers):
        priors = {
            p: Prior(mu_loc=v[0], mu_scale=v[1], sigma_scale=v[2], sigma_family=families[p]) for p, v in numbers.items()
        }
        hierarchical_model(model, trials, priors, frozenset(centered), resets=resets, gaps=gaps)

    # each lane starts as brl.fit's chains do: the prior median plus uniform(-2, 2) noise
    kernel = NUTS(
        numpyro_model,
        target_accept_prob=target_accept,
        max_tree_depth=max_tree_depth,
        init_strategy=init_around_median(radius=START_RADIUS),
    )

    def lane(key, trials, numbers):
        args = (trials, numbers)
        state = kernel.init(key, num_warmup, None, model_args=args, model_kwargs={})
        constrain = kernel.postprocess_fn(args, {})

        def warm(state, _):
            return kernel.sample(state, args, {}), None

        def draw(state, _):
            state = kernel.sample(state, args, {})
            values = constrain(state.z)
            kept = {k: values[k] for k in sites} if sites else values
            return state, (kept, {name: _stat(state, f) for name, f in _EXTRA.items()})

        state, _ = jax.lax.scan(warm, state, None, length=num_warmup)
        _, out = jax.lax.scan(draw, state, None, length=num_samples)
        return out

    return jax.jit(jax.vmap(lane, in_axes=(0, 0, None)))


#: Data sets per compiled call on a CPU when ``batch_size`` is not given. A vectorised lane
#: that finishes its trajectory waits for the slowest lane of its batch, so wide batches waste
#: work: ``benchmarks/bench_batch.py`` (2 CPU cores, 32 SBC data sets of 8 x 40, 2 chains)
#: fitted 211-227 data sets per minute with 2, 4 or 8 per batch, 185 with 16 and 144 with all
#: 32 (one ``brl.fit`` after another: 50).
CPU_BATCH_SIZE = 8


def default_batch_size(n_sets: int) -> int:
    """Data sets per compiled call when none is given: :data:`CPU_BATCH_SIZE` on a CPU, else all.

    Parameters
    ----------
    n_sets : int
        Data sets to fit.

    Returns
    -------
    int
        ``min(n_sets, CPU_BATCH_SIZE)`` when JAX's default backend is the CPU; ``n_sets`` on an
        accelerator, whose parallel lanes are cheap (not measured here: no GPU was available).
    """
    return min(n_sets, CPU_BATCH_SIZE) if jax.default_backend() == "cpu" else n_sets


def sample_batch(
    model,
    trials,
    priors: dict,
    *,
    num_warmup: int,
    num_samples: int,
    num_chains: int,
    seed: int = 0,
    target_accept: float = 0.8,
    max_tree_depth: int = 10,
    centered=(),
    sites=None,
    batch_size: int | None = None,
    progress=None,
):
    """NUTS for each of many data sets of one shape, all data sets and chains vectorised.

    Parameters
    ----------
    model : bayesrl.Model
    trials : Trial NamedTuple, each field shape (dataset, participant, trial)
    priors : dict of str to Prior
        Every parameter's group prior (the same for every data set).
    num_warmup, num_samples, num_chains : int
    seed : int
        Lane ``(d, c)`` (data set ``d``, chain ``c``) gets key ``d * num_chains + c`` of
        ``split(PRNGKey(seed), datasets * num_chains)``: results do not depend on ``batch_size``.
    target_accept, max_tree_depth, centered
        As in :func:`bayesrl.fit`.
    sites : tuple of str, optional
        Posterior sites to keep (default all).
    batch_size : int, optional
        Data sets per compiled call (the last batch is padded); default
        :func:`default_batch_size`.
    progress : callable, optional
        Called with the number of data sets done after each batch.

    Returns
    -------
    samples : dict of str to numpy.ndarray, each shape (dataset, chain, draw, ...)
    stats : dict of str to numpy.ndarray, each shape (dataset, chain, draw)
        ``diverging``, ``n_steps``, ``acceptance_rate``, ``lp``, ``energy``, ``step_size``,
        ``tree_depth`` as :func:`bayesrl.fit` stores them.
    """
    if isinstance(centered, str):
        raise ValueError(
            f"centered={centered!r}: batched fits take a list of parameter names (one program fits every data "
            'set); centered="auto" is for brl.fit'
        )
    n_sets = int(np.shape(trials.choice)[0])
    batch = default_batch_size(n_sets) if batch_size is None else max(1, min(int(batch_size), n_sets))
    program = _program(
        model,
        tuple(sorted((p, v.sigma_family) for p, v in priors.items())),
        tuple(sorted(centered)),
        int(num_warmup),
        int(num_samples),
        float(target_accept),
        int(max_tree_depth),
        None if sites is None else tuple(sites),
        starts_blocks(trials),  # no block anywhere: the trial loop skips the reset
        has_gaps(trials),  # invalid trials only at the ends: it skips the select that keeps the state
    )
    numbers = prior_numbers(priors)
    keys = jax.random.split(jax.random.PRNGKey(int(seed)), n_sets * num_chains)
    outputs = []
    for lo in range(0, n_sets, batch):
        idx = np.arange(lo, lo + batch)
        idx = np.where(idx < n_sets, idx, lo)  # pad the last batch with a data set already there
        lane_sets = np.repeat(idx, num_chains)
        lane_keys = keys[(lane_sets * num_chains + np.tile(np.arange(num_chains), batch))]
        lane_trials = jax.tree_util.tree_map(lambda a, s=lane_sets: jnp.asarray(np.asarray(a)[s]), trials)
        draws, extra = program(lane_keys, lane_trials, numbers)
        n_real = min(batch, n_sets - lo)
        outputs.append(
            jax.tree_util.tree_map(
                lambda a, n=n_real: np.asarray(a).reshape((batch, num_chains) + a.shape[1:])[:n], (draws, extra)
            )
        )
        if progress is not None:
            progress(lo + n_real)
    samples, stats = jax.tree_util.tree_map(lambda *a: np.concatenate(a, axis=0), *outputs)
    stats["lp"] = -stats["lp"]
    stats["tree_depth"] = np.floor(np.log2(np.maximum(stats["n_steps"], 1))).astype(int) + 1
    return samples, stats


def build_fit(model, dataset, samples: dict, stats: dict, priors: dict, settings: dict, seed: int) -> Fit:
    """A :class:`bayesrl.Fit` of one data set from :func:`sample_batch` output (its slice).

    Parameters
    ----------
    model : bayesrl.Model
    dataset : bayesrl.data.Dataset
    samples, stats : dict, each array shape (chain, draw, ...)
    priors : dict of str to Prior
    settings : dict
        ``num_warmup``, ``num_samples``, ``num_chains``, ``target_accept``,
        ``max_tree_depth``, ``centered``, ``sampling_seconds``.
    seed : int

    Returns
    -------
    Fit
        The groups and metadata :func:`bayesrl.fit` gives (no diagnostics are run).
    """
    from .api import _data_metadata, _environment_metadata, _model_metadata

    trials = dataset.trials(model)
    log_lik = pointwise_log_likelihood(model, samples, trials)
    metadata = {
        "model": _model_metadata(model, priors),
        "sampler": {
            "method": "nuts",
            "num_warmup": int(settings["num_warmup"]),
            "num_samples": int(settings["num_samples"]),
            "num_chains": int(settings["num_chains"]),
            "centered": sorted(settings.get("centered", ())),
            "seed": int(seed),
            "sampling_seconds": float(settings.get("sampling_seconds", 0.0)),
            "chain_method": "vectorized",
            "target_accept": float(settings.get("target_accept", 0.8)),
            "max_tree_depth": int(settings.get("max_tree_depth", 10)),
        },
        "data": _data_metadata(dataset),
        **_environment_metadata(),
    }
    return Fit(build_idata(model, dataset, samples, stats, log_lik, metadata), model, dataset, metadata)


def timed(function, *args, **kwargs):
    """``(function(*args, **kwargs), seconds)``."""
    start = time.perf_counter()
    out = function(*args, **kwargs)
    return out, time.perf_counter() - start
