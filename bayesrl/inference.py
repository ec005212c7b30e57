"""NUTS over the hierarchical model (robust initialisation, resumable state), and per-trial log-likelihoods."""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jax.flatten_util import ravel_pytree
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from numpyro import handlers
from numpyro.distributions.distribution import (
    ExpandedDistribution,
    Independent,
    MaskedDistribution,
    validation_enabled,
)
from numpyro.distributions.transforms import biject_to
from numpyro.infer import MCMC, NUTS, init_to_mean, init_to_median, init_to_uniform, init_to_value
from numpyro.infer.util import constrain_fn, find_valid_initial_params, potential_energy

from . import engine
from ._runtime import HOW_TO
from .data import pad_trials, trial_bucket
from .design import participant_arrays, trial_values, with_participant_arrays
from .hierarchy import hierarchical_model


def _exact_median(fn, shape):
    """The median of a univariate prior (wrapped by plates, ``expand``, ``to_event`` or ``mask``), or None."""
    base = fn
    while isinstance(base, Independent | ExpandedDistribution | MaskedDistribution):
        base = base.base_dist
    if base.event_shape:
        return None
    try:
        median = base.icdf(jnp.full(base.batch_shape, 0.5))
    except NotImplementedError:
        return None
    return jnp.broadcast_to(median, shape)


def init_around_median(site=None, radius=2.0, num_samples=15):
    """Start at the prior median plus uniform(-radius, radius) noise, on the unconstrained scale.

    A NumPyro init strategy: dispersed like Stan's and NumPyro's default uniform(-2, 2) start
    (which it equals for a parameter whose prior median is 0 on the unconstrained scale, e.g.
    a non-centred participant offset), but centred where the prior puts the parameter, so a
    prior far from 0 (a log inverse temperature centred at -6) does not start far out in its
    tail. Each chain draws its own point, as R-hat assumes (dispersed starts). The median is
    exact where the prior has an inverse CDF (normal, half-normal, half-Cauchy: every prior of
    :func:`bayesrl.hierarchy.hierarchical_model`), else that of ``num_samples`` prior draws.

    Parameters
    ----------
    site : dict, optional
        A NumPyro sample site; None returns the strategy with these settings.
    radius : float, default 2.0
        Half-width of the uniform noise on the unconstrained scale; 0 gives the median itself
        (without drawing noise).
    num_samples : int, default 15
        Prior draws whose (unconstrained) median is the centre where the exact one is not known.

    Returns
    -------
    value : jax.Array or callable
        The site's initial value (its shape), or the strategy when ``site`` is None.
    """
    if site is None:
        return functools.partial(init_around_median, radius=radius, num_samples=num_samples)
    if site["type"] != "sample" or site["is_observed"] or site["fn"].support.is_discrete:
        return None
    if site["value"] is not None:
        return site["value"]
    key_median, key_noise = jax.random.split(site["kwargs"]["rng_key"])
    sample_shape = tuple(site["kwargs"].get("sample_shape", ()))
    transform = biject_to(site["fn"].support)
    median = _exact_median(site["fn"], sample_shape + site["fn"].shape())
    if median is not None:
        centre = transform.inv(median)
    else:
        try:
            draws = site["fn"](sample_shape=(num_samples, *sample_shape), rng_key=key_median)
        except NotImplementedError:  # a prior without sampling: NumPyro's own uniform start
            return init_to_uniform(site, radius=radius)
        centre = jnp.median(transform.inv(draws), axis=0)
    if radius == 0:
        return transform(centre)
    noise = jax.random.uniform(key_noise, centre.shape, centre.dtype, -radius, radius)
    return transform(centre + noise)


#: Half-width of the chains' dispersed starts around the prior median (unconstrained scale).
START_RADIUS = 2.0

#: Initialisation strategies tried in turn (name, factory). Each gets up to 100 tries per chain.
#: NUTS starts with the first (dispersed starts, one per chain); MAP and SVI, which want one
#: deterministic start, with the second (``find_initial_params(..., dispersed=False)``).
INIT_STRATEGIES = (
    ("prior median + uniform(-2, 2) on the unconstrained scale", lambda: init_around_median(radius=START_RADIUS)),
    ("prior median", lambda: init_around_median(radius=0.0)),
    ("prior mean", lambda: init_to_mean),
    ("uniform(-2, 2) on the unconstrained scale", lambda: init_to_uniform(radius=2)),
)

#: NumPyro extra fields kept as ArviZ sample_stats (arviz name -> numpyro field).
_EXTRA = {
    "diverging": "diverging",
    "n_steps": "num_steps",
    "acceptance_rate": "accept_prob",
    "lp": "potential_energy",
    "energy": "energy",
    "step_size": "adapt_state.step_size",
}


def choose_chain_method(num_chains: int, chain_method: str | None, shards: int = 1) -> str:
    """``parallel`` when JAX has a device per chain, else ``vectorized`` (unless given).

    With participants sharded over devices (``shards > 1``) the devices hold participants, not
    chains: None gives ``vectorized`` and ``parallel`` is refused.
    """
    n_dev = jax.local_device_count()
    if chain_method is not None and chain_method not in ("parallel", "vectorized", "sequential"):
        raise ValueError(f"chain_method must be 'parallel', 'vectorized' or 'sequential', got {chain_method!r}")
    if shards > 1:
        if chain_method == "parallel":
            raise ValueError(
                "chain_method='parallel' puts each chain on its own device, but shard_participants= already "
                "splits the participants over the devices; use chain_method='vectorized' (the default then) "
                "or 'sequential'"
            )
        return chain_method or "vectorized"
    if chain_method is None:
        return "parallel" if num_chains > 1 and n_dev >= num_chains else "vectorized"
    if chain_method == "parallel" and n_dev < num_chains:
        warnings.warn(
            f"chain_method='parallel' with {num_chains} chains but JAX has {n_dev} device(s): NumPyro "
            f"would run the chains one after another. {HOW_TO}",
            stacklevel=3,
        )
    return chain_method


#: Name of the mesh axis the participants are split over.
PARTICIPANT_AXIS = "participant"


def shard_count(n_participants: int, n_devices: int) -> int:
    """The most shards, at most ``n_devices``, that split ``n_participants`` evenly.

    JAX (0.10 and 0.12 tested) refuses to place an array whose sharded axis is not a multiple
    of the number of devices (``IndivisibleError``), and padding with dummy participants
    would change the model, so the largest divisor of ``n_participants`` not above
    ``n_devices`` is used (e.g. 6 participants on 4 devices: 3 shards of 2).

    Returns
    -------
    int
        Between 1 and ``n_devices``.
    """
    return max(k for k in range(1, min(n_participants, n_devices) + 1) if n_participants % k == 0)


def participant_sharding(shards: int) -> NamedSharding:
    """Split axis 0 over the first ``shards`` devices (a 1-D mesh, axis :data:`PARTICIPANT_AXIS`)."""
    mesh = Mesh(np.asarray(jax.devices()[:shards]), (PARTICIPANT_AXIS,))
    return NamedSharding(mesh, PartitionSpec(PARTICIPANT_AXIS))


def place_participants(tree, shards: int):
    """Every array of ``tree`` (each with a leading participant axis) split over ``shards`` devices."""
    sharding = participant_sharding(shards)
    return jax.tree_util.tree_map(lambda a: jax.device_put(jnp.asarray(a), sharding), tree)


def _model_of_data(trials, design_arrays, *, model, priors, centered, design, resets=True, gaps=True):
    """:func:`hierarchical_model` with every participant-axis array as an argument.

    NumPyro (``jit_model_args=True``) passes ``trials`` and ``design_arrays``
    (:func:`bayesrl.design.participant_arrays`) into its compiled sampler as arguments: fits of
    same-shaped data share one program, and sharded arrays keep their sharding. Arrays the
    model closes over would be embedded in the program as constants (a new program per data
    set, whole on every device).
    """
    design = with_participant_arrays(design, design_arrays)
    return hierarchical_model(model, trials, priors, centered, design, resets=resets, gaps=gaps)


def model_of_data(model, trials, priors, centered=frozenset(), design=None, trial_length=None):
    """The hierarchical NumPyro model with the data as its arguments.

    Parameters
    ----------
    model : bayesrl.Model
    trials : Trial NamedTuple, each field shape (participant, trial)
    priors : dict of str to Prior
    centered : iterable of str
        Parameters with centred participant-level sites.
    design : bayesrl.design.Design or None
    trial_length : int, optional
        Pad the trial axis of ``trials`` and of the design's ``condition_index`` arrays to this
        length with masked trials (:func:`bayesrl.data.pad_trials`): the log density and its
        gradient are unchanged, and data sets padded to one length share a compiled sampler.

    Returns
    -------
    numpyro_model : callable
        :func:`_model_of_data` with the model, priors, centred sites and design bound, and
        ``resets=False`` when no trial of ``trials`` starts a block (read here, on the host:
        the trial loop then leaves the per-trial reset out, see
        :func:`bayesrl.engine.scan_trials`), and ``gaps=False`` when no valid trial follows
        an invalid one (the only invalid trials pad the end of a participant's trials: the
        loop then skips the per-trial select that keeps the state on them).
    model_args : tuple
        ``(trials, design_arrays)``: every array with a participant axis.
    """
    numpyro_model = functools.partial(
        _model_of_data,
        model=model,
        priors=priors,
        centered=frozenset(centered),
        design=design,
        resets=engine.starts_blocks(trials),
        gaps=engine.has_gaps(trials),
    )
    design_arrays = participant_arrays(design)
    if trial_length is not None:
        trials = pad_trials(trials, trial_length)
        design_arrays = {
            name: {f: pad_trials(a, trial_length) if f == "condition_index" else a for f, a in fields.items()}
            for name, fields in design_arrays.items()
        }
    return numpyro_model, (trials, design_arrays)


def _pmap_with_data(partial_map_fn):
    """NumPyro's ``parallel`` chains with the model's data as arguments of the mapped program.

    NumPyro maps ``functools.partial(MCMC._single_chain_mcmc, args=..., kwargs=..., ...)``
    over the chains with ``jax.pmap``, so the model's arguments are closed over and compiled
    into the program as constants: every data set compiled its own sampler. Given to
    ``MCMC(chain_method=...)`` (NumPyro accepts a callable there), this maps the same function
    with the arguments broadcast (``in_axes=None``) instead, so same-shaped data share one
    program (and JAX's persistent cache serves it across processes). Anything else falls back
    to NumPyro's own ``pmap``.
    """
    keywords = getattr(partial_map_fn, "keywords", None) or {}
    if not isinstance(partial_map_fn, functools.partial) or partial_map_fn.args or "args" not in keywords:
        return jax.pmap(partial_map_fn)
    rest = {k: v for k, v in keywords.items() if k not in ("args", "kwargs")}

    def one_chain(init, args, kwargs):
        return partial_map_fn.func(init, args=args, kwargs=kwargs, **rest)

    mapped = jax.pmap(one_chain, in_axes=(0, None, None))
    return lambda map_args: mapped(map_args, keywords["args"], keywords.get("kwargs", {}))


class InitError(RuntimeError):
    """No initial point with a finite log density was found."""


def trace_at(numpyro_model, model_args, strategy, rng_key) -> dict:
    """Values the strategy gives every site (deterministic ones computed from them)."""
    model = handlers.substitute(handlers.seed(numpyro_model, rng_key), substitute_fn=strategy)
    # non-finite logits are reported by the caller, not raised here; the prior-median strategy
    # samples (15, k) from (k,)-shaped priors: allowed whatever the user's rank-promotion setting
    with validation_enabled(False), jax.numpy_rank_promotion("allow"):
        return handlers.trace(model).get_trace(*model_args)


def describe_nonfinite(numpyro_model, model_args, participants=None) -> str:
    """Where the log density is not finite at the prior mean: sites, participants and trials.

    Parameters
    ----------
    numpyro_model : callable
    model_args : tuple
        Arguments of ``numpyro_model``.
    participants : sequence, optional
        Participant ids (the ``participant`` plate's order) used in the message.

    Returns
    -------
    str
        One sentence per problem, or a note that everything is finite there.
    """
    tr = trace_at(numpyro_model, model_args, init_to_mean, jax.random.PRNGKey(0))
    ids = list(participants) if participants is not None else None
    name = lambda i: repr(str(ids[i])) if ids is not None else f"#{i}"  # noqa: E731
    found = []
    for site in tr.values():
        if site["type"] == "deterministic":
            bad = ~np.isfinite(np.asarray(site["value"], float))
            if bad.any():
                where = f" (participant {name(int(np.argwhere(bad)[0][0]))})" if bad.ndim == 1 else ""
                found.append(f"parameter {site['name']!r} is not finite{where}")
        elif site["type"] == "sample":
            lp = np.asarray(site["fn"].log_prob(site["value"]), float)
            bad = ~np.isfinite(lp)
            if not bad.any():
                continue
            if site["is_observed"] and bad.ndim == 2:
                rows = sorted({int(i) for i in np.argwhere(bad)[:, 0]})
                for i in rows[:5]:
                    trials = np.flatnonzero(bad[i])
                    more = "..." if trials.size > 5 else ""
                    found.append(
                        f"the log-likelihood of participant {name(i)} is not finite at trials "
                        f"{trials[:5].tolist()}{more} (0-based)"
                    )
                if len(rows) > 5:
                    found.append(f"... and {len(rows) - 5} more participants")
            else:
                found.append(f"the log density of {site['name']!r} is not finite")
    if not found:
        return "At the prior mean the log density is finite, so the gradient is not (or no random start was)."
    return "At the prior mean: " + "; ".join(found) + "."


def _first_try(numpyro_model, model_args, strategy, keys, noise_radius=0.0):
    """Each chain's first start as NumPyro's ``find_valid_initial_params`` draws it, and its validity.

    One compiled program gives the start and whether the log density is finite there, without
    the gradient or the retry loop (which would add about a quarter to a fit's compilation).
    With ``noise_radius`` > 0, uniform(-noise_radius, noise_radius) noise is added to the
    strategy's point on the unconstrained scale in one draw for all sites: the start of
    ``init_around_median(radius=noise_radius)`` from ``init_around_median(radius=0)``, with one
    random draw instead of one per site (each costs compilation time: 2.8 s against 0.1 s
    for the two-step model's 13 sites, measured on 2026-12-06).

    Returns
    -------
    params : dict of str to jax.Array
        Unconstrained values, each shape (chain, ...).
    valid : jax.Array, shape (chain,)
    """

    def one(key, args):
        key_noise, subkey = jax.random.split(key)  # subkey: find_valid_initial_params's first try
        tr = trace_at(numpyro_model, args, strategy, subkey)
        params = {
            k: biject_to(s["fn"].support).inv(s["value"])
            for k, s in tr.items()
            if s["type"] == "sample" and not s["is_observed"]
        }
        if noise_radius:
            flat, unravel = ravel_pytree(params)
            noise = jax.random.uniform(key_noise, flat.shape, flat.dtype, -noise_radius, noise_radius)
            params = unravel(flat + noise)
        return params, jnp.isfinite(potential_energy(numpyro_model, args, {}, params))

    with jax.numpy_rank_promotion("allow"):
        if all(isinstance(x, jax.Array | np.ndarray) for x in jax.tree_util.tree_leaves(model_args)):
            return jax.jit(jax.vmap(one, in_axes=(0, None)))(keys, model_args)
        # arguments that are not arrays (a Model, priors): closed over, compiled as constants
        return jax.jit(jax.vmap(lambda key: one(key, model_args)))(keys)


def find_initial_params(numpyro_model, model_args, rng_key, num_chains: int, participants=None, dispersed: bool = True):
    """Initial values of every chain with a finite log density.

    Tries :data:`INIT_STRATEGIES` in turn and keeps the first that gives every chain a valid
    start: the prior median plus uniform(-2, 2) noise on the unconstrained scale (a dispersed
    start per chain, :func:`init_around_median`), the prior median, the prior mean, and last
    NumPyro's own default, uniform(-2, 2) around 0, which ignores the priors' location.

    Parameters
    ----------
    numpyro_model : callable
    model_args : tuple
        With arrays only (:func:`model_of_data`) they are arguments of the compiled program,
        so same-shaped data reuse it; other arguments are compiled in as constants.
    rng_key : jax.random key
    num_chains : int
    participants : sequence, optional
        Participant ids, for the error message.
    dispersed : bool, default True
        False skips the dispersed start and begins with the prior median (one deterministic
        start, exact where the prior has an inverse CDF: what MAP and SVI want).

    Returns
    -------
    name : str
        The strategy used.
    params : dict of str to jax.Array
        Unconstrained initial values, each shape (chain, ...).

    Raises
    ------
    InitError
        When no strategy works; the message names the sites, participants and trials whose
        log density is not finite at the prior mean.
    """
    keys = jax.random.split(rng_key, num_chains)
    strategies = INIT_STRATEGIES if dispersed else INIT_STRATEGIES[1:]
    if dispersed:  # INIT_STRATEGIES[0], with one random draw for all sites
        name = strategies[0][0]
        params, valid = _first_try(numpyro_model, model_args, init_around_median(radius=0.0), keys, START_RADIUS)
    else:
        name, make = strategies[0]
        params, valid = _first_try(numpyro_model, model_args, make(), keys)
    if bool(np.all(np.asarray(valid))):
        return name, params
    tr = trace_at(numpyro_model, model_args, init_to_median(num_samples=15), rng_key)
    prototype = {
        k: biject_to(s["fn"].support).inv(s["value"])
        for k, s in tr.items()
        if s["type"] == "sample" and not s["is_observed"]
    }
    tried = []
    for name, make in strategies:
        with jax.numpy_rank_promotion("allow"):
            # the log density only: NUTS checks the gradient at its own start, and compiling the
            # gradient here as well would add about a quarter to every fit's compilation
            (params, _, _), valid = find_valid_initial_params(
                keys,
                numpyro_model,
                init_strategy=make(),
                model_args=model_args,
                prototype_params=prototype,
                validate_grad=False,
            )
        if bool(np.all(np.asarray(valid))):
            return name, params
        tried.append(name)
    raise InitError(
        f"NUTS cannot start: no initial point with a finite log density was found "
        f"(tried {', '.join(tried)}; 100 tries each). {describe_nonfinite(numpyro_model, model_args, participants)} "
        f"Check those participants' data (values the model's policy or update turns into NaN or "
        f"infinite logits, e.g. a log of a non-positive number or an overflowing exp) and the priors."
    )


def _start_at(numpyro_model, model_args, params, num_chains):
    """An ``init_to_value`` strategy at the first chain's start (valid by construction)."""
    first = jax.tree_util.tree_map(lambda x: x[0], params) if num_chains > 1 else params
    values = constrain_fn(numpyro_model, model_args, {}, first)
    return init_to_value(values=values)


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
    participants=None,
    state=None,
    shards=1,
    trial_length=None,
):
    """Sample the hierarchical model with NUTS (``design``: a :class:`bayesrl.design.Design` or None).

    Each chain starts at its own point, the prior median plus uniform(-2, 2) noise on the
    unconstrained scale (:func:`find_initial_params`; other strategies when that gives a
    non-finite log density). With ``state`` (a previous run's last state, see
    :func:`state_to_dataset`) sampling continues from it without warm-up: the adapted step
    size and mass matrix are kept, and with the state's own random key the draws are those
    a longer first run would have made.

    Parameters
    ----------
    model, trials, priors, centered
        As :func:`bayesrl.hierarchy.hierarchical_model`.
    participants : sequence, optional
        Participant ids, for initialisation error messages.
    state : numpyro HMCState, optional
        Continue from this state (leading axis ``chain`` when ``num_chains > 1``); ``rng_key``
        None then uses the state's own keys.
    shards : int, default 1
        Split the participants over this many devices (a divisor of the participant count, at
        most ``len(jax.devices())``): every ``trials`` field and the design's participant-axis
        arrays are placed with ``NamedSharding(mesh, PartitionSpec("participant"))`` and passed
        to the compiled sampler as arguments, so XLA partitions the likelihood over devices.
        The chains are then vectorized (or sequential) on every device, never ``parallel``.
    trial_length : int, optional
        Sample with the trial axis padded to this length by masked trials (see
        :func:`model_of_data`): the same posterior, and one compiled sampler for every data
        set padded to the same shape (:func:`bayesrl.data.trial_bucket`).

    Returns
    -------
    samples : dict of str to numpy.ndarray, each shape (chain, draw, ...)
    stats : dict of str to numpy.ndarray, each shape (chain, draw)
    info : dict
        ``chain_method`` used, ``participant_shards``, the NUTS settings and the initialisation
        strategy.
    last_state : numpyro HMCState
        The chains' last state (for :func:`state_to_dataset` and resuming).
    """
    method = choose_chain_method(num_chains, chain_method, shards)
    n_participants = trials.valid.shape[0]
    if shards != 1 and (shards < 1 or n_participants % shards or shards > len(jax.devices())):
        raise ValueError(
            f"shards must divide the {n_participants} participants and be at most the {len(jax.devices())} "
            f"devices, got {shards!r}"
        )
    # the data are arguments of the compiled sampler, not constants in it: fits of same-shaped
    # data compile the same program (served by JAX's persistent compilation cache), and with
    # shards > 1 the arrays keep their sharding
    numpyro_model, model_args = model_of_data(model, trials, priors, centered, design, trial_length)
    if shards > 1:
        model_args = place_participants(model_args, shards)
    if state is None:
        key_init, rng_key = jax.random.split(rng_key)
        init_name, init_params = find_initial_params(
            numpyro_model, model_args, key_init, num_chains, participants=participants
        )
    else:
        init_name, init_params = "resumed", state.z
    if num_chains == 1 and state is None:
        init_params = jax.tree_util.tree_map(lambda x: x[0], init_params)
    kernel = NUTS(
        numpyro_model,
        target_accept_prob=target_accept,
        max_tree_depth=max_tree_depth,
        init_strategy=_start_at(numpyro_model, model_args, init_params, num_chains),
    )
    mcmc = MCMC(
        kernel,
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        chain_method=_pmap_with_data if method == "parallel" and jax.local_device_count() >= num_chains else method,
        progress_bar=progress_bar,
        jit_model_args=True,
    )
    if state is not None:
        mcmc.post_warmup_state = state
        if rng_key is None:
            rng_key = state.rng_key
    mcmc.run(rng_key, *model_args, extra_fields=tuple(_EXTRA.values()), init_params=init_params)
    samples = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    extra = mcmc.get_extra_fields(group_by_chain=True)
    stats = {name: np.asarray(extra[field]) for name, field in _EXTRA.items()}
    stats["lp"] = -stats["lp"]
    stats["tree_depth"] = np.floor(np.log2(np.maximum(stats["n_steps"], 1))).astype(int) + 1
    info = {
        "chain_method": method,
        "participant_shards": int(shards),
        "target_accept": target_accept,
        "max_tree_depth": max_tree_depth,
        "init_strategy": init_name,
    }
    return samples, stats, info, mcmc.last_state


# --- the sampler's last state as plain arrays (saved with a fit) ----------------------------------
def state_to_dataset(state) -> xr.Dataset:
    """A NUTS state as an ``xarray.Dataset`` of plain arrays (netCDF-safe, no pickle).

    Variables ``v0, v1, ...`` hold the state's leaves in ``jax.tree_util`` order; each
    carries its path in the attribute ``path`` (e.g. ``.adapt_state.step_size``) so that
    :func:`state_from_dataset` can check the structure. Booleans are stored as int8.
    """
    leaves = jax.tree_util.tree_flatten_with_path(state)[0]
    data = {}
    for i, (path, leaf) in enumerate(leaves):
        if jnp.issubdtype(jnp.result_type(leaf), jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        arr = np.asarray(leaf)
        kind = arr.dtype.name
        if arr.dtype == bool:
            arr = arr.astype(np.int8)
        data[f"v{i}"] = xr.DataArray(
            arr,
            dims=[f"v{i}_dim{j}" for j in range(arr.ndim)],
            attrs={"path": jax.tree_util.keystr(path), "dtype": kind},
        )
    return xr.Dataset(data)


def state_from_dataset(
    dataset: xr.Dataset, model, trials, priors, *, centered, num_warmup, num_chains, rng_key, design=None
):
    """The NUTS state stored by :func:`state_to_dataset`, rebuilt for this model and data.

    The structure comes from an abstract (not compiled) initialisation of the same kernel;
    a stored state that does not fit it raises ``ValueError``.

    Returns
    -------
    numpyro HMCState
    """
    model_args = (model, trials, priors, frozenset(centered), design)
    kernel = NUTS(hierarchical_model, init_strategy=init_to_median(num_samples=15))
    keys = jax.random.split(rng_key, num_chains) if num_chains > 1 else rng_key
    with jax.numpy_rank_promotion("allow"):  # see trace_at
        shapes = jax.eval_shape(lambda k: kernel.init(k, num_warmup, None, model_args, {}), keys)
    paths_leaves, treedef = jax.tree_util.tree_flatten_with_path(shapes)
    names = sorted(dataset.data_vars, key=lambda v: int(v[1:]))
    if len(names) != len(paths_leaves):
        raise ValueError(
            f"the stored sampler state has {len(names)} arrays but this model's NUTS state has {len(paths_leaves)}"
        )
    leaves = []
    for var, (path, like) in zip(names, paths_leaves, strict=True):
        arr = dataset[var]
        if arr.attrs.get("path") != jax.tree_util.keystr(path):
            raise ValueError(
                f"the stored sampler state does not match this model ({arr.attrs.get('path')!r} where "
                f"{jax.tree_util.keystr(path)!r} was expected)"
            )
        value = np.asarray(arr.values).astype(arr.attrs.get("dtype", like.dtype))
        if jnp.issubdtype(like.dtype, jax.dtypes.prng_key):
            value = jax.random.wrap_key_data(value)
        elif value.shape != like.shape:
            raise ValueError(f"stored sampler state {arr.attrs['path']}: shape {value.shape}, expected {like.shape}")
        leaves.append(jnp.asarray(value) if not jnp.issubdtype(like.dtype, jax.dtypes.prng_key) else value)
    return jax.tree_util.tree_unflatten(treedef, leaves)


@functools.partial(jax.jit, static_argnames=("model", "batch_size", "by_stage"))
def _score_draws(model, flat, trials, condition_index, batch_size, by_stage):
    """Log-likelihood of a flat batch of draws, one row per draw.

    One compiled program per model, shapes and options: the draws, data and condition indices
    are arguments, so fits of same-shaped data reuse it.
    """
    score = engine.stage_log_likelihood if by_stage else engine.log_likelihood
    return jax.lax.map(
        lambda p: score(model, model.make_params(trial_values(p, condition_index)), trials), flat, batch_size=batch_size
    )


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
    first = samples[model.param_names[0]]
    n_c, n_d = first.shape[:2]
    flat = {k: jnp.asarray(samples[k]).reshape((n_c * n_d,) + samples[k].shape[2:]) for k in model.param_names}
    # scored on the bucketed trial axis (one compiled program for data sets of nearby lengths),
    # the padded trials dropped again: a trial's log-likelihood depends on earlier trials only
    n_t = trials.valid.shape[1]
    length = trial_bucket(n_t)
    index = {k: pad_trials(v, length) for k, v in (condition_index or {}).items()}
    out = np.asarray(_score_draws(model, flat, pad_trials(trials, length), index, batch_size, by_stage))[:, :, :n_t]
    return out.reshape((n_c, n_d) + out.shape[1:])
