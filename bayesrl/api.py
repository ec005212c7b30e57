"""The scientist-facing calls: :func:`fit` and :func:`simulate`."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version

import jax
import numpy as np
import pandas as pd

from . import _centering, approx
from . import data as data_mod
from ._centering import choose_centered
from .design import build_design
from .hierarchy import resolve_priors
from .inference import pointwise_log_likelihood, run_nuts, shard_count, state_to_dataset
from .model import Model
from .models._registry import can_rebuild
from .results import Fit, build_idata
from .simulate import simulate_batch


def _versions() -> dict:
    out = {}
    for pkg in ("bayesrl", "jax", "numpyro", "arviz", "numpy", "pandas"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover
            out[pkg] = None
    return out


def _data_metadata(dataset) -> dict:
    """How the table was read (a fit's ``metadata["data"]``)."""
    return {
        "choice_base": dataset.choice_base,
        "n_options": dataset.n_options,
        "column_map": {k: str(v) for k, v in dataset.column_map.items()},
        "n_rows": int(dataset.n_trials.sum()),
        "n_masked": int(dataset.n_masked.sum()),
    }


def _environment_metadata() -> dict:
    """Package versions, precision and devices a fit ran with."""
    return {"versions": _versions(), "x64": bool(jax.config.jax_enable_x64), "devices": [str(d) for d in jax.devices()]}


def _key(seed, rng_key):
    if rng_key is not None:
        return rng_key
    if seed is None:
        raise ValueError("give seed= (an int) or rng_key= (a jax.random key)")
    return jax.random.PRNGKey(int(seed))


def _requested_devices(shard_participants, method: str) -> int:
    """The number of devices ``shard_participants=`` asks for (1: no sharding); see :func:`fit`."""
    n_dev = len(jax.devices())
    if isinstance(shard_participants, bool):
        wanted = n_dev if shard_participants else 1
    elif isinstance(shard_participants, (int, np.integer)) and 1 <= shard_participants <= n_dev:
        wanted = int(shard_participants)
    else:
        raise ValueError(
            f"shard_participants must be True, False or a number of devices from 1 to {n_dev} "
            f"(JAX has {n_dev} device(s)), got {shard_participants!r}"
        )
    if wanted > 1 and method != "nuts":
        raise ValueError(f"shard_participants= applies to method='nuts' only, got method={method!r}")
    return wanted


def _participant_shards(wanted: int, n_participants: int) -> int:
    """Shards for ``n_participants`` on ``wanted`` devices, with a warning when they do not divide evenly."""
    shards = shard_count(n_participants, wanted)
    if shards < wanted:
        warnings.warn(
            f"{n_participants} participants cannot be split evenly over {wanted} devices (JAX shards only "
            f"evenly); using {shards} shard(s) of {n_participants // shards} participants"
            + (", i.e. no sharding" if shards == 1 else ""),
            stacklevel=3,
        )
    return shards


def _model_metadata(model: Model, priors: dict) -> dict:
    library = can_rebuild(model.name) and bool(model.options)
    return {
        "name": model.name,
        "library": library,
        "options": dict(model.options),
        "n_options": model.n_options,
        "columns": list(model.columns),
        "params": {
            k: {"lower": v.lower, "upper": v.upper, "link": v.link, "prior": priors[k]._asdict()}
            for k, v in model.params.items()
        },
    }


def fit(
    model: Model,
    data,
    *,
    method: str = "nuts",
    num_warmup: int = 1000,
    num_samples: int = 1000,
    num_chains: int = 4,
    seed: int | None = 0,
    priors: Mapping | None = None,
    formula: Mapping | str | None = None,
    participant_data: pd.DataFrame | None = None,
    conditions: Mapping | None = None,
    columns: Mapping | None = None,
    choice_base: int | None = None,
    sep: str | None = None,
    centered=None,
    chain_method: str | None = None,
    shard_participants: bool | int = False,
    target_accept: float = 0.8,
    max_tree_depth: int = 10,
    rng_key=None,
    progress_bar: bool = True,
    check: bool = True,
    standardize: bool = True,
    sigma_by: Mapping | None = None,
    reset: str | None = "block",
    guide: str = "normal",
    num_steps: int = 10_000,
    learning_rate: float = 0.01,
    bucket_trials: bool = True,
) -> Fit:
    """Fit a hierarchical model to a long table of trials with NUTS, SVI or MAP/Laplace.

    Parameters
    ----------
    model : bayesrl.Model
        E.g. ``brl.models.rescorla_wagner()``.
    data : pandas.DataFrame or path-like
        One row per trial with columns ``participant`` (or ``subjID``...), ``choice`` and the
        model's columns (``outcome``...); optional ``trial`` (ordering) and ``block`` (state
        reset at each new block). Choices may be 0..K-1 or 1..K; NaN masks a trial.
    method : {"nuts", "svi", "map"}
        ``"nuts"``: Hamiltonian Monte Carlo (exact up to Monte Carlo error). ``"svi"``:
        stochastic variational inference with a Gaussian on the unconstrained scale (``guide``),
        ``"map"``: the posterior mode and a Laplace approximation (Gaussian with the inverse
        Hessian of the negative log density at the mode). Approximations give one chain of
        ``num_samples`` draws from the Gaussian, with the same variables as NUTS; fast, but
        they can understate uncertainty (see ``fit.diagnostics()``).
    num_warmup, num_samples, num_chains : int
        NUTS warm-up iterations, kept draws per chain, chains. For ``"svi"``/``"map"`` only
        ``num_samples`` (draws from the approximation) is used.
    seed : int, default 0
        Random seed (ignored when ``rng_key`` is given).
    priors : mapping, optional
        Per-parameter group priors, ``{"alpha": brl.Prior(mu_loc=0, mu_scale=1, sigma_scale=0.2)}``
        or a dict of those fields (``coef_scale``: prior sd of regression slopes and condition
        offsets, default 1).
    formula : dict or str, optional
        Participant-level regressions on group locations, ``{"alpha": "1 + group + age"}`` (a
        formulaic right-hand side; one string applies to every parameter). The location of
        ``alpha`` on the unconstrained scale becomes ``X @ alpha_beta`` (posterior ``alpha_beta``,
        dim ``alpha_coef`` with the term names). Categorical covariates are treatment coded
        (reference: first level in sorted order); numeric ones standardised (see ``standardize``).
        See :meth:`Fit.contrast` and :meth:`Fit.coefficients`.
    participant_data : pandas.DataFrame, optional
        One row per participant (a ``participant`` column, or indexed by participant) with the
        covariates; without it they are read from participant-constant columns of ``data``.
    conditions : dict, optional
        Within-participant conditions, ``{"alpha": "condition"}``: a trial-level column; the
        parameter takes one value per condition (first sorted level, or first category of a
        pandas Categorical, is the reference; each other level adds a group offset ``alpha_cond``
        with participant-level random effects of scale ``alpha_cond_sigma``). Posterior
        ``alpha`` then has dims (participant, ``alpha_condition``).

    Other Parameters
    ----------------
    columns : mapping, optional
        Explicit ``{canonical name: table column}`` (``{"block": None}`` ignores a block column).
    choice_base : {None, 0, 1}
        Choice coding; None decides from the data (an error if ambiguous).
    sep : str, optional
        Field separator when ``data`` is a file path (default: tab for .tsv/.txt, else sniffed).
    centered : None, iterable of str, or "auto"
        Parameters to sample with a centred parameterisation (``p_raw`` instead of ``p_z``);
        ``[]`` samples every parameter non-centred, as hBayesDM does. Either gives the same
        posterior; they differ in how fast NUTS explores it. ``"auto"`` chooses per parameter
        from the data before sampling (:func:`bayesrl._centering.centering_scores`, 0.5-5 s on
        a CPU): centred where each participant's trials pin their value down well relative to
        the group's spread (many informative trials), non-centred otherwise. On synthetic
        200 x 200 data it centred both parameters and gave 2-3x the min-ESS per second; on
        hBayesDM's 20 x 100 example it keeps both non-centred (centred, that fit diverges).
        None (the default): ``"auto"`` for NUTS on data with at least
        :data:`bayesrl._centering.AUTO_FROM` (10,000) observed choices, every parameter
        non-centred below that (there a fit takes seconds, the choice a good share of them).
        The choice and each parameter's score are in ``fit.metadata["sampler"]["centered"]``
        and ``["centering_scores"]``.
    chain_method : {None, "parallel", "vectorized", "sequential"}
        None picks ``parallel`` when JAX has at least ``num_chains`` devices (``bayesrl``
        asks for 4 CPU devices at import when it can), else ``vectorized``. With
        ``shard_participants`` the default is ``vectorized`` and ``parallel`` is refused.
    shard_participants : bool or int, default False
        NUTS only: split the participants over devices (``True``: all of ``jax.devices()``;
        an int: that many) instead of running the chains on separate devices. The padded data
        (every trial field and the design's participant-axis arrays) is placed with
        ``jax.sharding.NamedSharding`` on a 1-D mesh with axis ``"participant"`` and XLA
        partitions the likelihood, so each device scores its own participants for all chains
        (vectorized). Meant for many participants on several GPUs (not benchmarked; tested on
        CPU host devices only). JAX shards only evenly: when the participant count is not a multiple
        of the devices, the largest divisor of it not above them is used, with a warning.
        ``fit.metadata["sampler"]["participant_shards"]`` records the number of shards. The
        draws equal those of an unsharded vectorized fit up to floating-point rounding.
    target_accept : float, default 0.8
        NUTS target acceptance probability; raise it (0.9-0.99) if there are divergences.
    max_tree_depth : int, default 10
    rng_key : jax.random key, optional
    progress_bar : bool, default True
    check : bool, default True
        Run :meth:`Fit.diagnostics` and warn about problems.
    standardize : bool, default True
        Standardise numeric covariates a formula uses as plain terms (mean 0, sd 1 over
        participants, sample sd); stored in ``fit.metadata["design"]["standardized"]``.
    sigma_by : dict, optional
        ``{"alpha": "group"}``: one group-level scale per level of a participant-level column
        (posterior ``alpha_sigma`` with dim ``alpha_sigma_level``).
    reset : {"block", "condition", None}, default "block"
        Where the learned values return to their initial state: at each new block (the ``block``
        column), also where the condition changes (``"condition"``), or never (None: values are
        carried across blocks and sessions).
    guide : {"normal", "lowrank"}
        SVI only: NumPyro's ``AutoNormal`` (mean-field) or ``AutoLowRankMultivariateNormal``.
    num_steps : int, default 10000
        SVI only: optimisation steps; the ELBO's convergence is checked and a warning says
        what to change when it has not converged.
    learning_rate : float, default 0.01
        SVI only: Adam's step size.
    bucket_trials : bool, default True
        NUTS only: sample with the trial axis padded by masked trials to
        :func:`bayesrl.data.trial_bucket` of the longest participant's count (100 stays 100,
        97 to 100 give 100, 101 gives 104, 1000 gives 1024), so that a data set a few trials
        longer or shorter reuses the compiled sampler instead of compiling again. The
        posterior is the same (masked trials add nothing to the log density); the padded
        length is recorded in ``fit.metadata["sampler"]["padded_trials"]``. False samples the
        data's own length.

    Returns
    -------
    Fit
        ``fit.idata`` has ``posterior`` (per parameter ``p`` (participant), ``p_mu``,
        ``p_sigma``, ``p_z``, ``p_group``), ``log_likelihood`` (``choice``: chain, draw,
        participant, trial), ``sample_stats``, ``observed_data`` and ``constant_data``.

        ``fit.method`` says which method produced the fit.

    Raises
    ------
    bayesrl.DataError
        When the table cannot be used (the message names column, participant and row).
    ValueError
        For unknown parameters in ``priors`` or ``centered``, an unknown ``method`` or ``guide``,
        or a bad ``shard_participants``.
    bayesrl.inference.InitError
        When no initial point has a finite log density (the message names the participants).

    Notes
    -----
    Each NUTS chain starts at its own random point: the prior median plus uniform(-2, 2)
    noise on the unconstrained scale (group locations around the prior's location,
    participant offsets in (-2, 2)), dispersed as Stan's and NumPyro's default start (which
    R-hat assumes) but centred where the priors are; if the log density is not finite there,
    the prior median, the prior mean and then NumPyro's uniform(-2, 2) are tried. SVI and MAP
    start at the prior median. Continue a NUTS fit with :meth:`Fit.resume`.
    """
    if not isinstance(model, Model):
        raise TypeError(
            f"model must be a bayesrl.Model (e.g. brl.models.rescorla_wagner()), got {type(model).__name__}"
        )
    if method not in ("nuts", "svi", "map"):
        raise ValueError(f"method must be 'nuts', 'svi' or 'map', got {method!r}")
    if method == "svi" and guide not in approx.GUIDES:
        raise ValueError(f"guide must be one of {list(approx.GUIDES)}, got {guide!r}")
    if method == "svi" and (int(num_steps) != num_steps or num_steps < 2):
        raise ValueError(f"num_steps must be an integer >= 2, got {num_steps!r}")
    for name, v in (("num_warmup", num_warmup), ("num_samples", num_samples), ("num_chains", num_chains)):
        if int(v) != v or v < (0 if name == "num_warmup" else 1):
            raise ValueError(
                f"{name} must be a {'non-negative' if name == 'num_warmup' else 'positive'} integer, got {v!r}"
            )
    prior_table = resolve_priors(model, priors)
    if isinstance(centered, str) and centered != "auto":
        raise ValueError(f'centered must be None, "auto" or a list of parameter names, got {centered!r}')
    choose = centered  # None: "auto" on large data sets (below, once the data are read)
    centered = frozenset() if centered is None or isinstance(centered, str) else frozenset(centered)
    unknown = sorted(centered - set(model.param_names))
    if unknown:
        raise ValueError(
            f"centered= names unknown parameters {unknown}; model {model.name!r} has {list(model.param_names)}"
        )
    wanted_devices = _requested_devices(shard_participants, method)
    table = data_mod.read_table(data, sep)
    dataset = data_mod.prepare(table, model, columns=columns, choice_base=choice_base)
    design, dataset = build_design(
        model,
        table,
        dataset,
        formula=formula,
        participant_data=participant_data,
        standardize=standardize,
        sigma_by=sigma_by,
        conditions=conditions,
        reset=reset,
    )
    trials = dataset.trials(model)
    padded = data_mod.trial_bucket(dataset.max_trials) if bucket_trials else dataset.max_trials
    shards = _participant_shards(wanted_devices, dataset.n_participants)
    key = _key(seed, rng_key)

    start = time.perf_counter()
    scores = None
    n_choices = int(np.asarray(dataset.arrays["valid"]).sum())
    if isinstance(choose, str) or (choose is None and method == "nuts" and n_choices >= _centering.AUTO_FROM):
        centered, scores = choose_centered(
            model, trials, prior_table, design, jax.random.fold_in(key, 1), dataset.participants
        )
    common = dict(centered=centered, rng_key=key, participants=dataset.participants, design=design)
    state = None
    if method == "nuts":
        samples, stats, info, state = run_nuts(
            model,
            trials,
            prior_table,
            num_warmup=int(num_warmup),
            num_samples=int(num_samples),
            num_chains=int(num_chains),
            chain_method=chain_method,
            target_accept=target_accept,
            max_tree_depth=max_tree_depth,
            progress_bar=progress_bar,
            shards=shards,
            trial_length=padded,
            **common,
        )
        settings = {
            "num_warmup": int(num_warmup),
            "num_samples": int(num_samples),
            "num_chains": int(num_chains),
            "padded_trials": padded,
        }
    elif method == "svi":
        samples, stats, info = approx.run_svi(
            model,
            trials,
            prior_table,
            guide=guide,
            num_steps=int(num_steps),
            learning_rate=float(learning_rate),
            num_draws=int(num_samples),
            progress_bar=progress_bar,
            **common,
        )
        settings = {"num_samples": int(num_samples), "num_chains": 1}
    else:
        samples, stats, info = approx.run_map(model, trials, prior_table, num_draws=int(num_samples), **common)
        settings = {"num_samples": int(num_samples), "num_chains": 1}
    elapsed = time.perf_counter() - start
    log_lik = pointwise_log_likelihood(
        model, samples, trials, condition_index=None if design is None else design.condition_index
    )
    metadata = {
        "model": _model_metadata(model, prior_table),
        "sampler": {
            "method": method,
            **settings,
            "centered": sorted(centered),
            **({} if scores is None else {"centering_scores": scores}),
            "seed": None if rng_key is not None else int(seed),
            "sampling_seconds": elapsed,
            **info,
        },
        "data": _data_metadata(dataset),
        **({} if design is None else {"design": design.to_metadata()}),
        **_environment_metadata(),
    }
    state_group = None if state is None else state_to_dataset(state)
    idata = build_idata(model, dataset, samples, stats, log_lik, metadata, design=design, state=state_group)
    result = Fit(idata, model, dataset, metadata, design=design)
    if check:
        result.diagnostics(warn=True)
    return result


def _participant_params(model: Model, params, group, n_participants, key) -> pd.DataFrame:
    """Per-participant natural-scale parameters from fixed values or group-level values."""
    if (params is None) == (group is None):
        raise ValueError("give exactly one of params= (per-participant values) or group= (group-level values)")
    names = list(model.param_names)
    if group is not None:
        if n_participants is None:
            raise ValueError("simulating from group= values needs n_participants=")
        wanted = {f"{p}_{s}" for p in names for s in ("mu", "sigma")}
        missing, extra = sorted(wanted - set(group)), sorted(set(group) - wanted)
        if missing or extra:
            raise ValueError(
                f"group= must give exactly {sorted(wanted)} (unconstrained scale); missing {missing}, unknown {extra}"
            )
        keys = jax.random.split(key, len(names))
        cols = {
            p: np.asarray(
                model.params[p].constrain(
                    group[f"{p}_mu"] + group[f"{p}_sigma"] * jax.random.normal(k, (n_participants,))
                )
            )
            for p, k in zip(names, keys, strict=True)
        }
        return pd.DataFrame(cols, index=pd.RangeIndex(1, n_participants + 1, name="participant"))
    table = params if isinstance(params, pd.DataFrame) else None
    if table is None:
        if not isinstance(params, Mapping):
            raise TypeError("params= must be a dict of parameter values or a DataFrame with one row per participant")
        sizes = {np.size(v) for v in params.values()} - {1}
        n = n_participants or (sizes.pop() if sizes else 1)
        if sizes:
            raise ValueError(f"params= values have different lengths {sorted(sizes | {n})}")
        table = pd.DataFrame(
            {k: np.broadcast_to(np.asarray(v, float), (n,)) for k, v in params.items()},
            index=pd.RangeIndex(1, n + 1, name="participant"),
        )
    missing, extra = sorted(set(names) - set(table.columns)), sorted(set(table.columns) - set(names))
    if missing or extra:
        raise ValueError(f"params= must give {names} for model {model.name!r}; missing {missing}, unknown {extra}")
    for p in names:
        bad = ~model.params[p].contains(table[p].to_numpy())
        if bad.any():
            raise ValueError(f"params[{p!r}] = {table[p].to_numpy()[bad][0]} is outside {model.params[p].describe()}")
    return table[names].astype(float)


def simulate(
    model: Model,
    params=None,
    *,
    task,
    group: Mapping | None = None,
    n_participants: int | None = None,
    seed: int = 0,
    rng_key=None,
    choice_base: int | None = None,
) -> pd.DataFrame:
    """Simulate participants with the model's own ``policy`` and ``update``.

    Parameters
    ----------
    model : bayesrl.Model
    params : dict or pandas.DataFrame, optional
        Natural-scale parameters: ``{"alpha": 0.3, "beta": [1, 2, 3]}`` (scalars broadcast) or a
        DataFrame with one row per participant (its index becomes the participant id).
    task : bayesrl.tasks.Task
        E.g. ``brl.tasks.bandit([0.7, 0.3], n_trials=100)``.
    group : dict, optional
        Instead of ``params``: group-level values on the unconstrained scale, ``{"alpha_mu": ..,
        "alpha_sigma": .., "beta_mu": .., "beta_sigma": ..}`` as in the fitted model; needs
        ``n_participants``.
    n_participants : int, optional
    seed : int, default 0
    rng_key : jax.random key, optional
    choice_base : {None, 1, 0}
        Code choices 1..K (hBayesDM) or 0..K-1; None uses the model's own coding when the task
        fixes it (``model.choice_base``, e.g. 0 for the probabilistic selection task), else 1.

    Returns
    -------
    pandas.DataFrame
        Long format that :func:`fit` reads: ``participant``, ``trial`` (1-based), ``choice``
        (one column per stage for a staged model, e.g. ``level1_choice``, ``level2_choice``),
        the task's fields (``outcome``...), ``block`` when the task has several blocks (the
        learner's state resets at each), and ``true_<param>`` columns with each participant's
        parameter values.
    """
    if choice_base is None:
        choice_base = 1 if model.choice_base is None else model.choice_base
    key = _key(seed, rng_key)
    key_p, key_sim = jax.random.split(key)
    table = _participant_params(model, params, group, n_participants, key_p)
    values = model.make_params({p: jax.numpy.asarray(table[p].to_numpy()) for p in model.param_names})
    trials, _ = simulate_batch(model, values, task, key_sim)
    n_p, n_t = np.shape(trials.valid)
    out = {
        "participant": np.repeat(table.index.to_numpy(), n_t),
        "trial": np.tile(np.arange(1, n_t + 1), n_p),
    }
    choice = np.asarray(trials.choice).reshape(n_p * n_t, model.n_stages)  # one column per stage
    for k, name in enumerate(model.choice_columns):
        out[name] = choice[:, k] + choice_base
    for f in task.provides():
        if f in trials._fields:
            out[f] = np.asarray(trials[trials._fields.index(f)]).ravel()
    if task.block_start is not None and np.any(task.block_start[1:]):
        # write the blocks so that fitting the simulated table resets where the task did
        block = np.asarray(task.inputs.get("block", np.cumsum(task.block_start) + (not task.block_start[0])))
        out["block"] = np.tile(block, n_p)
    for p in model.param_names:
        out[f"true_{p}"] = np.repeat(table[p].to_numpy(), n_t)
    return pd.DataFrame(out)
