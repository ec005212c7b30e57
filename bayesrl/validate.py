"""Validation tools: parameter recovery, model recovery and simulation-based calibration.

The same shared pieces as everywhere: :func:`bayesrl.simulate` (the model's own step
functions against a task) and the hierarchical model of :func:`bayesrl.fit`. Model recovery
and SBC fit many same-shaped synthetic data sets with one compiled sampler
(:mod:`bayesrl._batch`); :mod:`bayesrl.plots` draws their figures
(:func:`~bayesrl.plots.plot_model_recovery`, :func:`~bayesrl.plots.plot_sbc`).
"""

from __future__ import annotations

import time
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from .api import fit as fit_model
from .api import simulate

__all__ = [
    "ModelRecovery",
    "Recovery",
    "SBC",
    "model_recovery",
    "parameter_recovery",
    "sbc",
    "shuffled_correlation",
    "uniformity_test",
]


class Recovery(NamedTuple):
    """Result of :func:`parameter_recovery`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per parameter: ``r`` (correlation of posterior means with the true values
        over participants), ``r_shuffled`` (the same against the true values shuffled over
        participants, mean of 20 shuffles: a control near 0), ``coverage`` (fraction of true
        values inside the participant's HDI), ``rmse``.
    truth, estimates : pandas.DataFrame
        True values and :meth:`bayesrl.Fit.participants`, indexed by participant.
    fit : bayesrl.Fit
    seconds : float
        Wall time of the fit.
    """

    table: pd.DataFrame
    truth: pd.DataFrame
    estimates: pd.DataFrame
    fit: object
    seconds: float


def shuffled_correlation(estimate, truth, n_shuffles: int = 20, seed: int = 0) -> float:
    """Mean correlation of ``estimate`` with ``truth`` permuted at random (a control near 0).

    Parameters
    ----------
    estimate, truth : array_like, shape (participant,)
    n_shuffles : int, default 20
    seed : int, default 0

    Returns
    -------
    float
    """
    rng = np.random.default_rng(seed)
    truth = np.asarray(truth, dtype=float)
    return float(np.mean([np.corrcoef(estimate, rng.permutation(truth))[0, 1] for _ in range(n_shuffles)]))


def parameter_recovery(
    model,
    task,
    group: dict,
    n_participants: int,
    *,
    simulation_seed: int = 0,
    hdi_prob: float = 0.9,
    quiet: bool = True,
    **fit_kwargs,
) -> Recovery:
    """Simulate participants from group-level values, fit them, and compare with the truth.

    Parameters
    ----------
    model : bayesrl.Model
    task : bayesrl.tasks.Task
    group : dict
        Group-level values on the unconstrained scale, ``{"alpha_mu": .., "alpha_sigma": .., ...}``
        (as :func:`bayesrl.simulate` takes them).
    n_participants : int
    simulation_seed : int, default 0
        Seed of the simulation (the fit's own ``seed`` goes in ``fit_kwargs``, default 0).
    hdi_prob : float, default 0.9
        Interval used for ``coverage``.
    quiet : bool, default True
        Silence the fit's diagnostic warnings (short recovery runs often warn about ESS).
    **fit_kwargs
        Passed to :func:`bayesrl.fit` (``num_warmup``, ``num_samples``, ``num_chains``...).

    Returns
    -------
    Recovery
    """
    sim = simulate(model, group=group, n_participants=n_participants, task=task, seed=simulation_seed)
    fit_kwargs.setdefault("progress_bar", False)
    start = time.perf_counter()
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore", UserWarning)
        result = fit_model(model, sim, **fit_kwargs)
    seconds = time.perf_counter() - start
    names = list(model.param_names)
    truth = sim.groupby("participant", sort=False)[[f"true_{p}" for p in names]].first()
    truth.columns = names
    est = result.participants(hdi_prob=hdi_prob).loc[truth.index]
    rows = []
    for p in names:
        mean, true = est[f"{p}_mean"].to_numpy(), truth[p].to_numpy()
        inside = (est[f"{p}_hdi_lower"].to_numpy() <= true) & (true <= est[f"{p}_hdi_upper"].to_numpy())
        rows.append(
            {
                "parameter": p,
                "r": float(np.corrcoef(mean, true)[0, 1]),
                "r_shuffled": shuffled_correlation(mean, true),
                "coverage": float(inside.mean()),
                "rmse": float(np.sqrt(np.mean((mean - true) ** 2))),
            }
        )
    return Recovery(pd.DataFrame(rows).set_index("parameter"), truth, est, result, seconds)


# --- model recovery ------------------------------------------------------------------------------


class ModelRecovery(NamedTuple):
    """Result of :func:`model_recovery`.

    Attributes
    ----------
    counts : pandas.DataFrame, shape (generating model, winning model)
        How many data sets simulated by each model (rows) each model won (columns).
    confusion : pandas.DataFrame, shape (generating model, winning model)
        ``counts`` divided by its row sums: P(winner | generator).
    inversion : pandas.DataFrame, shape (winning model, generating model)
        P(generator | winner): ``counts`` divided by its column sums and transposed, i.e. with
        every generating model equally likely a priori (each simulated ``n_datasets`` times);
        NaN in the row of a model that never won.
    winners : pandas.DataFrame
        One row per data set: ``generator``, ``dataset``, ``winner``, ``elpd_diff`` and ``dse``
        (the runner-up's difference from the winner and its standard error), ``method``.
    tables : dict
        ``{(generator, dataset): brl.compare table}``.
    fits : dict
        ``{(generator, dataset): {model name: bayesrl.Fit}}``.
    seconds : float
        Wall time of everything.
    """

    counts: pd.DataFrame
    confusion: pd.DataFrame
    inversion: pd.DataFrame
    winners: pd.DataFrame
    tables: dict
    fits: dict
    seconds: float


def _progress(total: int, show: bool, desc: str):
    from tqdm import tqdm  # a NumPyro dependency

    return tqdm(total=total, disable=not show, desc=desc, leave=True, dynamic_ncols=True)


def _split_datasets(sim: pd.DataFrame, n_participants: int, n_datasets: int) -> list[pd.DataFrame]:
    """Cut a simulation of ``n_participants * n_datasets`` participants into data sets."""
    ids = sim["participant"].drop_duplicates().to_numpy()
    out = []
    for d in range(n_datasets):
        keep = ids[d * n_participants : (d + 1) * n_participants]
        out.append(sim[sim["participant"].isin(keep)].reset_index(drop=True))
    return out


def model_recovery(
    models: dict,
    task,
    groups: dict,
    n_participants: int,
    *,
    n_datasets: int = 1,
    simulation_seed: int = 0,
    priors: dict | None = None,
    compare_kwargs: dict | None = None,
    num_warmup: int = 1000,
    num_samples: int = 1000,
    num_chains: int = 4,
    seed: int = 0,
    target_accept: float = 0.8,
    max_tree_depth: int = 10,
    batch_size: int | None = None,
    progress: bool = True,
    quiet: bool = True,
) -> ModelRecovery:
    """Simulate from each model, fit every model to each data set, and count which wins by LOO.

    For each generating model ``g`` (a key of ``groups``), ``n_datasets`` data sets of
    ``n_participants`` are simulated from ``groups[g]`` with ``task``; every model in
    ``models`` is fitted to each, and :func:`bayesrl.compare` (participant as the unit)
    names the winner. Each model is compiled once and fitted to all data sets together
    (vectorised NUTS, see ``batch_size``).

    Parameters
    ----------
    models : dict of str to bayesrl.Model
        At least two candidate models, e.g. ``{"rw": brl.models.rescorla_wagner(), ...}``.
    task : bayesrl.tasks.Task
        The design every data set is simulated with (it must provide every model's columns).
    groups : dict of str to dict
        For each generating model (a subset of ``models``' names), its group-level values on
        the unconstrained scale, as :func:`bayesrl.simulate` takes them.
    n_participants : int
        Participants per data set.
    n_datasets : int, default 1
        Data sets per generating model.
    simulation_seed : int, default 0
    priors : dict of str to mapping, optional
        ``{model name: priors}`` passed to the fit of that model.
    compare_kwargs : dict, optional
        Passed to :func:`bayesrl.compare`; default ``{"ic": "loo", "refit": "never"}``
        (PSIS-LOO with the integrated step for high Pareto k; ``refit="auto"`` adds exact
        refits, each about the cost of a fit).

    Other Parameters
    ----------------
    num_warmup, num_samples, num_chains, seed, target_accept, max_tree_depth
        NUTS settings of every fit. Each model is fitted to every data set at once: NUTS is
        vectorised over (data set, chain), each with its own adaptation.
    batch_size : int, optional
        Data sets sampled together (default 8 on a CPU, all on an accelerator:
        :func:`bayesrl._batch.default_batch_size`); the progress bar advances per batch. The
        results do not depend on it.
    progress : bool, default True
        A progress bar over the fits.
    quiet : bool, default True
        Silence the fits' and comparisons' warnings (short runs warn about ESS and Pareto k).

    Returns
    -------
    ModelRecovery

    Raises
    ------
    ValueError
        Fewer than two models, generating models not among ``models``, or bad sizes.
    """
    from . import data as data_mod
    from ._batch import build_fit, sample_batch, timed
    from .compare import compare
    from .hierarchy import resolve_priors

    if not isinstance(models, dict) or len(models) < 2:
        raise ValueError("models must be a dict of at least two {name: brl.Model}")
    unknown = [g for g in groups if g not in models]
    if unknown or not groups:
        raise ValueError(f"groups= must give group values for some of the models {list(models)}; unknown: {unknown}")
    unknown = [m for m in (priors or {}) if m not in models]
    if unknown:
        raise ValueError(f"priors= names models not in models: {unknown}")
    for name, v in (("n_participants", n_participants), ("n_datasets", n_datasets)):
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if n_participants < 2:
        raise ValueError("model comparison by participant needs n_participants >= 2")
    options = {"ic": "loo", "refit": "never"}
    options.update(compare_kwargs or {})
    options.setdefault("progress_bar", False)

    start = time.perf_counter()
    datasets = []  # (generator, index, prepared data) in order
    for i, g in enumerate(groups):
        sim = simulate(
            models[g], group=groups[g], n_participants=n_participants * n_datasets, task=task, seed=simulation_seed + i
        )
        for d, df in enumerate(_split_datasets(sim, n_participants, n_datasets)):
            datasets.append((g, d, df))
    names = list(models)
    fits = {}  # (generator, index) -> {model: Fit}
    bar = _progress(len(datasets) * len(models), progress, "model recovery")
    try:
        for m in names:
            model = models[m]
            prepared = [data_mod.prepare(df, model) for _, _, df in datasets]
            trials = jax.tree_util.tree_map(lambda *a: np.stack(a), *[x.trials(model) for x in prepared])
            prior_table = resolve_priors(model, (priors or {}).get(m))
            settings = dict(
                num_warmup=num_warmup,
                num_samples=num_samples,
                num_chains=num_chains,
                target_accept=target_accept,
                max_tree_depth=max_tree_depth,
            )
            bar.set_postfix_str(f"fitting {m}")
            done = [0]

            def advance(n, done=done):
                bar.update(n - done[0])
                done[0] = n

            (samples, stats), seconds = timed(
                sample_batch, model, trials, prior_table, seed=seed, progress=advance, batch_size=batch_size, **settings
            )
            settings["sampling_seconds"] = seconds / len(datasets)
            for j, (g, d, _) in enumerate(datasets):
                take = jax.tree_util.tree_map(lambda a, j=j: a[j], (samples, stats))
                fits.setdefault((g, d), {})[m] = build_fit(model, prepared[j], *take, prior_table, settings, seed)
    finally:
        bar.close()
    rows, tables = [], {}
    for (g, d), by_model in fits.items():
        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore", UserWarning)
            table = compare(by_model, **options)
        tables[(g, d)] = table
        rows.append(
            {
                "generator": g,
                "dataset": d,
                "winner": table.index[0],
                "elpd_diff": float(table["elpd_diff"].iloc[1]),
                "dse": float(table["dse"].iloc[1]),
                "method": ",".join(sorted(set(table["method"]))),
            }
        )
    winners = pd.DataFrame(rows)
    counts = pd.crosstab(winners["generator"], winners["winner"]).reindex(
        index=list(groups), columns=names, fill_value=0
    )
    counts.index.name, counts.columns.name = "generating model", "winning model"
    confusion = counts.div(counts.sum(axis=1), axis=0)
    col = counts.sum(axis=0)
    inversion = (counts / col.where(col > 0)).T
    inversion.index.name, inversion.columns.name = "winning model", "generating model"
    return ModelRecovery(counts, confusion, inversion, winners, tables, fits, time.perf_counter() - start)


# --- simulation-based calibration ---------------------------------------------------------------


class SBC(NamedTuple):
    """Result of :func:`sbc`.

    Attributes
    ----------
    ranks : pandas.DataFrame, shape (simulation, variable)
        Rank of the true value among ``n_draws`` thinned posterior draws (0..n_draws).
    truth : pandas.DataFrame, shape (simulation, variable)
        The group-level values drawn from the prior (unconstrained scale).
    test : pandas.DataFrame
        One row per variable: ``chi2``, ``dof`` and ``p_value`` of the chi-square test of
        uniform ranks over ``n_bins`` bins, and ``min_ess`` (the smallest bulk ESS of the
        variable over simulations, to compare with ``n_draws``).
    n_draws : int
        Thinned draws per simulation (ranks take ``n_draws + 1`` values).
    n_bins : int
    divergences : numpy.ndarray of int, shape (simulation,)
    seconds : float
    """

    ranks: pd.DataFrame
    truth: pd.DataFrame
    test: pd.DataFrame
    n_draws: int
    n_bins: int
    divergences: np.ndarray
    seconds: float

    def passed(self, alpha: float = 0.01) -> bool:
        """True when no variable's p-value is below ``alpha / n_variables`` (Bonferroni)."""
        return bool((self.test["p_value"] >= alpha / len(self.test)).all())


def _prior_draws(model, priors: dict, n: int, rng) -> dict:
    """Group-level ``p_mu`` and ``p_sigma`` of every parameter drawn from their priors, shape (n,)."""
    out = {}
    for p in model.param_names:
        prior = priors[p]
        out[f"{p}_mu"] = rng.normal(prior.mu_loc, prior.mu_scale, n)
        if prior.sigma_family == "halfcauchy":
            out[f"{p}_sigma"] = np.abs(prior.sigma_scale * rng.standard_cauchy(n))
        else:
            out[f"{p}_sigma"] = np.abs(rng.normal(0.0, prior.sigma_scale, n))
    return out


def uniformity_test(ranks, n_draws: int, n_bins: int) -> tuple[float, int, float]:
    """Chi-square test that ranks in ``0..n_draws`` are uniform, over ``n_bins`` bins.

    Bins split the ``n_draws + 1`` rank values as evenly as possible; each bin's expected
    count is proportional to the rank values it holds.

    Parameters
    ----------
    ranks : array_like of int, shape (simulation,)
    n_draws : int
    n_bins : int

    Returns
    -------
    chi2 : float
    dof : int
    p_value : float
    """
    from scipy import stats

    ranks = np.asarray(ranks, dtype=int)
    if ranks.min() < 0 or ranks.max() > n_draws:
        raise ValueError(f"ranks must lie in 0..{n_draws}")
    if not 2 <= n_bins <= n_draws + 1:
        raise ValueError(f"n_bins must be between 2 and n_draws + 1 = {n_draws + 1}, got {n_bins}")
    which = (ranks * n_bins) // (n_draws + 1)
    observed = np.bincount(which, minlength=n_bins)
    width = np.bincount((np.arange(n_draws + 1) * n_bins) // (n_draws + 1), minlength=n_bins)
    expected = ranks.size * width / width.sum()
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    return chi2, n_bins - 1, float(stats.chi2.sf(chi2, n_bins - 1))


def sbc(
    model,
    task,
    n_participants: int,
    *,
    n_simulations: int = 100,
    n_draws: int = 49,
    n_bins: int | None = None,
    priors=None,
    fit_priors=None,
    num_warmup: int = 500,
    num_samples: int = 250,
    num_chains: int = 2,
    seed: int = 0,
    target_accept: float = 0.8,
    max_tree_depth: int = 10,
    batch_size: int | None = None,
    progress: bool = True,
) -> SBC:
    """Simulation-based calibration of the group-level parameters (Talts et al. 2018).

    Each simulation draws every ``p_mu`` and ``p_sigma`` from the group prior, participants'
    parameters from them, and choices from the model with ``task``; the model is fitted and
    the rank of each true value among ``n_draws`` thinned posterior draws is recorded. If the
    fit is correct (right model, right prior, a sampler that works), every rank is uniform on
    ``0..n_draws``; :func:`uniformity_test` checks it per variable and
    :func:`bayesrl.plots.plot_sbc` draws the histograms.

    All simulations are drawn at once (one vectorised simulation) and fitted together: NUTS
    is ``vmap``-ped over (simulation, chain) lanes, each with its own initialisation and
    warm-up adaptation as a separate fit would have, in one compiled program (reused for
    every batch, and for fits with other prior numbers).

    Parameters
    ----------
    model : bayesrl.Model
    task : bayesrl.tasks.Task
        The design of every simulated data set.
    n_participants : int
    n_simulations : int, default 100
    n_draws : int, default 49
        Posterior draws kept per simulation for the ranks, evenly spaced over all chains'
        draws (thinning; keep it below the effective sample size, reported as ``min_ess``).
    n_bins : int, optional
        Bins of the uniformity test; default ``min(n_simulations // 10, n_draws + 1)``, at
        least 2 (about ten simulations expected per bin).
    priors : mapping, optional
        Group priors to simulate from and to fit with (default the model's), as in
        :func:`bayesrl.fit`.
    fit_priors : mapping, optional
        Fit with other priors than those simulated from: a deliberately mis-specified fit
        whose ranks should *not* be uniform (a negative control).

    Other Parameters
    ----------------
    num_warmup, num_samples, num_chains, seed, target_accept, max_tree_depth
        NUTS settings (chains vectorised); ``num_samples * num_chains >= n_draws``.
    batch_size : int, optional
        Simulations fitted together (default 8 on a CPU, all on an accelerator:
        :func:`bayesrl._batch.default_batch_size`); the progress bar advances per batch. The
        results do not depend on it.
    progress : bool, default True
        A progress bar over the fits.

    Returns
    -------
    SBC

    Raises
    ------
    ValueError
        For bad sizes, or fit priors with another group-scale family than the simulation's.
    """
    from scipy import stats as _stats  # noqa: F401  (fail early if SciPy is missing)

    from ._batch import sample_batch
    from .hierarchy import resolve_priors
    from .simulate import simulate_batch

    for name, v in (("n_participants", n_participants), ("n_simulations", n_simulations), ("n_draws", n_draws)):
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    total = int(num_samples) * int(num_chains)
    if n_draws > total:
        raise ValueError(f"n_draws ({n_draws}) exceeds the draws sampled (num_samples * num_chains = {total})")
    n_bins = int(max(2, min(n_simulations // 10, n_draws + 1)) if n_bins is None else n_bins)
    if not 2 <= n_bins <= n_draws + 1:
        raise ValueError(f"n_bins must be between 2 and n_draws + 1 = {n_draws + 1}, got {n_bins}")
    sim_priors = resolve_priors(model, priors)
    fitted_priors = resolve_priors(model, priors if fit_priors is None else {**dict(priors or {}), **dict(fit_priors)})

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    truth = _prior_draws(model, sim_priors, int(n_simulations), rng)
    s, n = int(n_simulations), int(n_participants)
    raw = {
        p: truth[f"{p}_mu"][:, None] + truth[f"{p}_sigma"][:, None] * rng.standard_normal((s, n))
        for p in model.param_names
    }
    values = model.make_params(
        {p: model.params[p].constrain(jnp.asarray(raw[p].reshape(-1))) for p in model.param_names}
    )
    trials, _ = simulate_batch(model, values, task, jax.random.PRNGKey(int(seed)))
    trials = jax.tree_util.tree_map(lambda a: np.asarray(a).reshape((s, n) + a.shape[1:]), trials)

    names = list(truth)
    bar = _progress(s, progress, f"SBC {model.name}")
    try:
        samples, stats = sample_batch(
            model,
            trials,
            fitted_priors,
            num_warmup=num_warmup,
            num_samples=num_samples,
            num_chains=num_chains,
            seed=seed + 1,
            target_accept=target_accept,
            max_tree_depth=max_tree_depth,
            batch_size=batch_size,
            progress=lambda done: bar.update(done - bar.n),
        )
    finally:
        bar.close()
    keep = np.round(np.linspace(0, total - 1, int(n_draws))).astype(int)
    ranks = np.zeros((s, len(names)), int)
    min_ess = np.zeros(len(names))
    for j, v in enumerate(names):
        draws = samples[v]  # (simulation, chain, draw)
        kept = draws.reshape(s, -1)[:, keep]
        ranks[:, j] = (kept < truth[v][:, None]).sum(axis=1)
        min_ess[j] = min(_ess(draws[i]) for i in range(s))
    divergences = stats["diverging"].reshape(s, -1).sum(axis=1).astype(int)
    rank_table = pd.DataFrame(ranks, columns=names).rename_axis("simulation")
    rows = []
    for j, v in enumerate(names):
        chi2, dof, p_value = uniformity_test(ranks[:, j], int(n_draws), n_bins)
        rows.append({"variable": v, "chi2": chi2, "dof": dof, "p_value": p_value, "min_ess": min_ess[j]})
    test = pd.DataFrame(rows).set_index("variable")
    truth_table = pd.DataFrame(truth).rename_axis("simulation")
    return SBC(rank_table, truth_table, test, int(n_draws), n_bins, divergences, time.perf_counter() - start)


def _ess(draws) -> float:
    from . import _arviz

    draws = np.asarray(draws, dtype=float)
    if draws.shape[0] * draws.shape[1] < 8:
        return float(draws.size)
    return float(np.nan_to_num(_arviz.ess_array(draws), nan=0.0))
