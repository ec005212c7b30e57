"""Model comparison: ``brl.compare`` (LOO, WAIC, grouped K-fold) and ``brl.participant_elpd``.

The unit left out is the participant by default: trials within a learner depend on that
learner's history and are not exchangeable, so trial-level LOO answers "predict one held-out
choice given all the others, including later ones", rarely the scientific question. Where
PSIS-LOO's Pareto k is too high for a participant, the participant's own parameters are
integrated out (importance sampling over the group-level draws only) and, if k is still high,
the participant is left out and the model refitted exactly (:mod:`bayesrl._refit`); grouped
K-fold by participant is the alternative.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from . import _arviz
from ._refit import integrated_log_lik, refitter
from .results import Fit

COLUMNS = [
    "rank",
    "elpd",
    "se",
    "p",
    "elpd_diff",
    "dse",
    "weight_stacking",
    "weight_pseudo_bma",
    "warning",
    "method",
    "n_flagged",
    "n_integrated",
    "n_refit",
    "mcse_refit",
]
_REFIT = ("auto", "never", "always")
_BASE_FIELDS = ("choice", "valid", "block_start")


def _check_same_data(fits: Mapping[str, Fit]) -> None:
    """Raise a ValueError naming the first difference between the fits' data."""
    names = list(fits)
    a_name, a = names[0], fits[names[0]].data
    for b_name in names[1:]:
        b = fits[b_name].data
        where = f"fits {a_name!r} and {b_name!r} were fitted to different data"
        pa, pb = [str(x) for x in a.participants], [str(x) for x in b.participants]
        if pa != pb:
            only_a, only_b = sorted(set(pa) - set(pb)), sorted(set(pb) - set(pa))
            if not only_a and not only_b:
                detail = "the same participants in a different order"
            else:
                detail = (
                    f"{len(pa)} vs {len(pb)} participants; only in {a_name!r}: {only_a[:5]}"
                    f"{'...' if len(only_a) > 5 else ''}, only in {b_name!r}: {only_b[:5]}"
                    f"{'...' if len(only_b) > 5 else ''}"
                )
            raise ValueError(f"{where}: participants differ ({detail})")
        counts = np.flatnonzero(np.asarray(a.n_trials) != np.asarray(b.n_trials))
        if counts.size:
            i = counts[0]
            raise ValueError(
                f"{where}: trial counts differ (participant {pa[i]!r} has {int(a.n_trials[i])} trials in "
                f"{a_name!r} and {int(b.n_trials[i])} in {b_name!r})"
            )
        va, vb = a.arrays["valid"], b.arrays["valid"]
        checks = [("masked trials", va, vb)]
        ca, cb = np.asarray(a.arrays["choice"]), np.asarray(b.arrays["choice"])
        if ca.shape != cb.shape:
            raise ValueError(f"{where}: choices per trial differ ({ca[0, 0].size} vs {cb[0, 0].size})")
        stage_va = va.reshape(va.shape + (1,) * (ca.ndim - 2))  # a staged model's choices: (participant, trial, stage)
        stage_vb = vb.reshape(vb.shape + (1,) * (cb.ndim - 2))
        checks.append(("choices", np.where(stage_va, ca, -1), np.where(stage_vb, cb, -1)))
        checks.append(("block starts", a.arrays["block_start"], b.arrays["block_start"]))
        shared = sorted((set(a.arrays) & set(b.arrays)) - set(_BASE_FIELDS))
        for c in shared:
            checks.append((f"column {c!r}", np.where(va, a.arrays[c], 0), np.where(vb, b.arrays[c], 0)))
        for what, x, y in checks:
            x, y = np.asarray(x), np.asarray(y)
            differ = ~((x == y) | (np.isnan(x) & np.isnan(y))) if x.dtype.kind == "f" else x != y
            if differ.any():
                i, t = np.argwhere(differ)[0][:2]
                raise ValueError(
                    f"{where}: {what} differ (first at participant {pa[i]!r}, trial {t} of that participant "
                    f"(0-based): {x[i, t]!r} in {a_name!r}, {y[i, t]!r} in {b_name!r})"
                )


def _lppd(ll: np.ndarray) -> np.ndarray:
    """Log pointwise predictive density of each unit; ``ll`` shape (chain, draw, unit)."""
    flat = ll.reshape(-1, ll.shape[-1])
    return logsumexp(flat, axis=0) - np.log(flat.shape[0])


def _psis(fit: Fit, unit: str):
    """PSIS-LOO pointwise elpd and Pareto k of every unit (flat trials enter exactly, with k = 0)."""
    ll = fit.log_likelihood(unit)
    flat = ll.reshape(-1, ll.shape[-1])
    varies = np.ptp(flat, axis=0) > 0
    elpd_i, k = flat[0].astype(float).copy(), np.zeros(ll.shape[-1])
    if varies.any():
        sub = ll[..., varies]
        dim = "unit"
        data = _arviz.from_dict(
            {"posterior": {"_": np.zeros(ll.shape[:2])}, "log_likelihood": {"choice": sub}},
            coords={dim: np.arange(sub.shape[-1])},
            dims={"choice": [dim]},
        )
        elpd_i[varies], k[varies], good_k = _arviz.pointwise_loo(data)
    else:
        good_k = 0.7
    return ll, elpd_i, k, good_k


def _kfold_folds(n: int, k: int, seed: int) -> list[np.ndarray]:
    """Participant indices of each of ``k`` folds: a seeded permutation split evenly."""
    perm = np.random.default_rng(seed).permutation(n)
    return [np.sort(f) for f in np.array_split(perm, k)]


def _model_elpd(fit, *, ic, unit, refit, integrate, k, k_threshold, mc_draws, seed, progress_bar):
    """Pointwise elpd of one fit and how it was obtained."""
    participants = [str(p) for p in fit.data.participants]
    n_draws = int(np.prod(fit.log_likelihood("participant").shape[:2]))
    info = {"n_flagged": 0, "n_integrated": 0, "n_refit": 0, "mcse_refit": 0.0, "flagged": [], "refitted": []}
    if ic == "waic":
        ll = fit.log_likelihood(unit)
        flat = ll.reshape(-1, ll.shape[-1])
        lppd = _lppd(ll)
        p_i = flat.var(axis=0, ddof=1)
        elpd_i = lppd - p_i
        bad = p_i > 0.4  # ArviZ's rule of thumb for WAIC
        flagged = _labels(fit, unit, bad)
        info.update(method="waic", n_flagged=len(flagged), flagged=flagged, warning=bool(bad.any()), unreliable=flagged)
        return elpd_i, float(p_i.sum()), n_draws, info
    if ic == "kfold":
        ll = fit.log_likelihood("participant")
        folds = _kfold_folds(len(participants), k, seed)
        elpd_i, mcse_i = refitter(fit, progress_bar).heldout_elpd(folds, seed, mc_draws)
        info.update(
            method="kfold",
            n_refit=len(folds),
            mcse_refit=float(np.sqrt(np.sum(mcse_i**2))),
            mcse=dict(zip(participants, mcse_i.tolist(), strict=True)),
            warning=False,
            folds=[[participants[i] for i in f] for f in folds],
        )
        return elpd_i, float((_lppd(ll) - elpd_i).sum()), n_draws, info

    ll, elpd_i, pareto_k, good_k = _psis(fit, unit)
    threshold = good_k if k_threshold is None else float(k_threshold)
    high = ~(pareto_k <= threshold)  # NaN counts as high
    info.update(
        n_flagged=int(high.sum()),
        flagged=_labels(fit, unit, high),
        threshold=threshold,
        pareto_k=dict(zip(participants, pareto_k.tolist(), strict=True))
        if unit == "participant"
        else pareto_k.tolist(),
    )
    if unit == "trial":
        info.update(method="psis-loo", warning=bool(high.any()), unreliable=info["flagged"])
        return elpd_i, float((_lppd(ll) - elpd_i).sum()), n_draws, info
    if isinstance(refit, str):
        todo = np.full_like(high, refit == "always")
    else:
        todo = np.isin(participants, refit)
    # flagged participants not refitted on request: PSIS over the group-level draws with their
    # own parameters integrated out, kept where its k is lower
    integrated = np.zeros_like(high)
    candidates = np.flatnonzero(high & ~todo)
    if integrate and candidates.size:
        ll_int = integrated_log_lik(fit, candidates, mc_draws, seed)
        data = _arviz.from_dict(
            {"posterior": {"_": np.zeros(ll_int.shape[:2])}, "log_likelihood": {"choice": ll_int}},
            coords={"unit": candidates},
            dims={"choice": ["unit"]},
        )
        e_int, k_int, _ = _arviz.pointwise_loo(data)
        better = ~(k_int >= pareto_k[candidates])
        elpd_i[candidates[better]] = e_int[better]
        integrated[candidates[better]] = True
        info["pareto_k_integrated"] = {participants[i]: float(k) for i, k in zip(candidates, k_int, strict=True)}
        pareto_k = pareto_k.copy()
        pareto_k[candidates[better]] = k_int[better]
    still_high = ~(pareto_k <= threshold) & ~todo
    if refit == "auto" and fit.method == "nuts":  # exact refits re-run NUTS; approximations are only flagged
        todo = todo | still_high
        integrated &= ~todo
    mcse_i = np.zeros_like(elpd_i)
    if todo.any():
        exact, mc = refitter(fit, progress_bar).heldout_elpd([[i] for i in np.flatnonzero(todo)], seed, mc_draws)
        elpd_i[todo], mcse_i[todo] = exact[todo], mc[todo]
    if todo.all():
        method = "exact-loo"
    else:
        method = "psis-loo" + ("+integrated" if integrated.any() else "") + ("+refit" if todo.any() else "")
    info.update(
        method=method,
        n_integrated=int(integrated.sum()),
        integrated=[participants[i] for i in np.flatnonzero(integrated)],
        n_refit=int(todo.sum()),
        refitted=[participants[i] for i in np.flatnonzero(todo)],
        mcse_refit=float(np.sqrt(np.sum(mcse_i**2))),
        mcse={participants[i]: float(mcse_i[i]) for i in np.flatnonzero(todo)},
        warning=bool((still_high & ~todo).any()),
        unreliable=[participants[i] for i in np.flatnonzero(still_high & ~todo)],
    )
    return elpd_i, float((_lppd(ll) - elpd_i).sum()), n_draws, info


def _labels(fit, unit, mask) -> list:
    """Participant ids (or (participant, trial) pairs) where ``mask`` is True."""
    ids = [str(p) for p in fit.data.participants]
    if unit == "participant":
        return [ids[i] for i in np.flatnonzero(mask)]
    p, t = np.nonzero(fit.data.arrays["valid"])
    return [(ids[p[j]], int(t[j])) for j in np.flatnonzero(mask)]


def _unit_index(fit, unit) -> pd.Index:
    ids = [str(p) for p in fit.data.participants]
    if unit == "participant":
        return pd.Index(ids, name="participant")
    p, t = np.nonzero(fit.data.arrays["valid"])
    return pd.MultiIndex.from_arrays([np.asarray(ids)[p], t], names=["participant", "trial"])


def compare(
    fits: Mapping[str, Fit],
    ic: str = "loo",
    unit: str = "participant",
    *,
    refit="auto",
    integrate: bool = True,
    k: int = 10,
    k_threshold: float | None = None,
    mc_draws: int = 100,
    seed: int = 0,
    progress_bar: bool = True,
    return_pointwise: bool = False,
):
    """Compare fitted models by expected log predictive density, ranked best first.

    Parameters
    ----------
    fits : mapping of str to Fit
        At least two fits of the same data, e.g. ``{"rw": fit1, "rw_asym": fit2}``; the names
        index the table.
    ic : {"loo", "waic", "kfold"}
        ``"loo"``: PSIS-LOO (ArviZ); where its Pareto k is too high, the participant's own
        parameters are integrated out and, if that is not enough, the participant is refitted
        exactly (see ``integrate`` and ``refit``). ``"waic"``: WAIC. ``"kfold"``: grouped K-fold cross-validation by
        participant (``k`` refits per model).
    unit : {"participant", "trial"}
        What is left out. The participant (default): each participant's summed
        log-likelihood, the question "how well does the model predict a new learner's
        choices". ``"trial"``: every valid trial, "predict one held-out choice given the
        others"; trials within a learner are not exchangeable (each depends on the history
        and informs later ones), so treat trial-level results with care. Refits and K-fold
        are by participant only. At the trial level, trials whose log-likelihood is the same
        in every draw (a first choice between equal initial values) enter with that exact
        value.

    Other Parameters
    ----------------
    refit : {"auto", "never", "always"} or list of participant ids
        For ``ic="loo"`` by participant: ``"auto"`` refits exactly (leave the participant out,
        refit, score) each participant whose Pareto k still exceeds ``k_threshold`` after the
        integrated step; ``"never"`` only flags them; ``"always"`` refits every participant
        (exact leave-one-participant-out); a list refits those participants. Refits run NUTS:
        for a fit made by ``method="svi"`` or ``"map"``, ``"auto"`` only flags, and explicit
        refits (and ``ic="kfold"``) raise ``ValueError``.
    integrate : bool, default True
        For participants whose plain PSIS-LOO is flagged (and not refitted on request), first
        try PSIS on their likelihood with their own parameters integrated out (Monte Carlo,
        ``mc_draws`` per posterior draw): the importance weights then act on the group-level
        parameters only, which one participant moves little, so k is usually much lower
        (Vehtari et al. 2016; Merkle et al. 2019). Kept where its k is lower than plain PSIS's;
        no refit needed where it is below the threshold.
    k : int, default 10
        Number of folds for ``ic="kfold"`` (at most the number of participants; equal to it,
        K-fold is exact leave-one-participant-out). Folds are a permutation of the
        participants seeded by ``seed``, identical for every model.
    k_threshold : float, optional
        Pareto k above which PSIS-LOO is unreliable; default ArviZ's
        ``min(1 - 1 / log10(draws), 0.7)`` (0.7 from 2,154 draws up).
    mc_draws : int, default 100
        Draws ``M`` of a participant's parameters from the group distribution per posterior
        draw, in the integrated step and in refits (see Notes).
    seed : int, default 0
        Seeds refits, Monte Carlo draws and the K-fold split.
    progress_bar : bool, default True
        NumPyro's progress bar during refits (nothing is shown when there are none).
    return_pointwise : bool, default False
        Also return the pointwise elpd of every model.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by model name (``model``), best first. Columns: ``rank`` (0 = best), ``elpd``
        (sum over units), ``se`` (``sqrt(n * var(elpd_i))``), ``p`` (effective number of
        parameters, ``lppd - elpd``; the WAIC penalty for ``ic="waic"``), ``elpd_diff`` (elpd
        minus the best model's: 0 for the best, negative otherwise, as ArviZ 1.x and R's
        ``loo`` report it), ``dse`` (standard error of that difference from the paired
        pointwise differences), ``weight_stacking`` and ``weight_pseudo_bma`` (Yao et al.
        2018; pseudo-BMA without the Bayesian bootstrap), ``warning`` (True when some unit's
        estimate is still unreliable: Pareto k above the threshold and not refitted, or a WAIC
        penalty ``p_waic_i > 0.4``), ``method`` (``"psis-loo"``, with ``"+integrated"`` and/or
        ``"+refit"`` when those steps replaced some participants' estimates, ``"exact-loo"``
        when every participant was refitted, ``"waic"``, ``"kfold"``), ``n_flagged`` (units
        over the Pareto k threshold under plain PSIS-LOO, or with ``p_waic_i > 0.4``),
        ``n_integrated`` (participants whose estimate comes from the integrated step),
        ``n_refit`` (refits run), ``mcse_refit`` (Monte Carlo standard error of the refitted
        part of ``elpd``, 0 when nothing was refitted). ``table.attrs`` holds ``ic``, ``unit``
        and, under ``"details"``, per model the threshold, every participant's Pareto k (plain
        and integrated), the flagged, integrated, refitted and still unreliable participants,
        each refit's Monte Carlo standard error and the K-fold folds.
    pointwise : pandas.DataFrame
        Only with ``return_pointwise=True``: elpd of each unit, shape (unit, model), indexed
        by ``participant`` (or ``participant, trial``), one column per model in the order
        given. With ``unit="participant"`` this is what :func:`bms` takes.

    Raises
    ------
    ValueError
        Fewer than two fits; fits on different data (the message names the first
        difference: participants, trial counts, masked trials, choices, outcomes...); an
        unknown ``ic``/``unit``/``refit``; refits requested where they do not apply.

    Notes
    -----
    An exact refit of participant ``i`` refits the same model (priors and sampler settings
    from ``fit.metadata``) to the data with ``i``'s trials masked, which leaves exactly the
    posterior given the other participants, and estimates

    ``log p(y_i | y_-i) = log mean_s p(y_i | mu_s, sigma_s)``, with
    ``p(y_i | mu_s, sigma_s) = integral of p(y_i | theta) N(theta_raw; mu_s, sigma_s) dtheta``

    by Monte Carlo over ``mc_draws`` draws of ``theta_raw`` per group draw ``s``
    (``logsumexp`` over all ``S * M`` terms). The estimate of ``p`` is unbiased, its log
    slightly biased downwards. Its Monte Carlo standard error (``mcse_refit``; per participant
    in ``attrs["details"]``) counts both the finite number ``S`` of group draws (more draws in
    the fit) and ``M`` (``mc_draws``); the second part grows with the number of trials per
    participant, whose likelihood then covers a small part of the group distribution. Compare
    it with ``dse``. All refits of one model share one compiled sampler (chains vectorised)
    and are kept with the fit, so a second comparison does not run them again; each costs
    about as much as the original fit.

    For fits with ``formula=``, ``sigma_by=`` or ``conditions=``, ``N(mu_s, sigma_s)`` is the
    participant's own prior given the group draw: location ``X[i] @ p_beta_s``, the scale of
    the participant's ``sigma_by`` level, and on trials of a non-reference condition ``c`` the
    offset ``p_cond_s[c] + p_cond_sigma_s[c] * eps_c`` with its own standard normal ``eps_c``
    (the hierarchy's random effects); the held-out participant's covariates stay in the design.

    The integrated step uses the same Monte Carlo integral at every draw of the original
    posterior; with too small an ``mc_draws`` its noise inflates the Pareto k (100 was
    enough for 100 trials per participant in our checks, 20 was not).

    Examples
    --------
    >>> table = brl.compare({"rw": fit_rw, "rw_kappa": fit_kappa})  # doctest: +SKIP
    >>> table, elpd = brl.compare(fits, return_pointwise=True)  # doctest: +SKIP
    >>> brl.bms(elpd)  # doctest: +SKIP
    """
    if not isinstance(fits, Mapping):
        raise TypeError("fits must be a dict of {name: Fit}, e.g. {'rw': fit1, 'rw_asym': fit2}")
    if len(fits) < 2:
        raise ValueError(f"compare needs at least two fits to compare, got {len(fits)}")
    for name, f in fits.items():
        if not isinstance(f, Fit):
            raise TypeError(f"fits[{name!r}] must be a bayesrl.Fit, got {type(f).__name__}")
    if ic not in ("loo", "waic", "kfold"):
        raise ValueError(f"ic must be 'loo', 'waic' or 'kfold', got {ic!r}")
    if unit not in ("participant", "trial"):
        raise ValueError(f"unit must be 'participant' or 'trial', got {unit!r}")
    explicit = not (isinstance(refit, str) and refit in ("auto", "never"))
    if isinstance(refit, str):
        if refit not in _REFIT:
            raise ValueError(f"refit must be one of {list(_REFIT)} or a list of participant ids, got {refit!r}")
    else:
        refit = [str(p) for p in refit]
    if explicit and (ic != "loo" or unit != "participant"):
        raise ValueError(
            f"refit={refit!r} applies to ic='loo' with unit='participant' (exact leave-one-participant-out); "
            f"got ic={ic!r}, unit={unit!r}"
        )
    if ic == "kfold" and unit != "participant":
        raise ValueError("ic='kfold' is grouped by participant: use unit='participant'")
    names = [str(n) for n in fits]
    if len(set(names)) != len(names):
        raise ValueError(f"model names must be distinct as strings, got {list(fits)}")
    fits = dict(zip(names, fits.values(), strict=True))
    _check_same_data(fits)
    first = next(iter(fits.values()))
    n_participants = len(first.data.participants)
    if ic == "kfold" and not 2 <= int(k) <= n_participants:
        raise ValueError(f"k (folds) must be between 2 and the number of participants ({n_participants}), got {k}")
    if isinstance(refit, list):
        unknown = sorted(set(refit) - {str(p) for p in first.data.participants})
        if unknown:
            raise ValueError(f"refit= names participants not in the data: {unknown}")

    elpds, pointwise, details = {}, {}, {}
    for name, f in fits.items():
        elpd_i, p, n_draws, info = _model_elpd(
            f,
            ic=ic,
            unit=unit,
            refit=refit,
            integrate=integrate,
            k=int(k),
            k_threshold=k_threshold,
            mc_draws=mc_draws,
            seed=seed,
            progress_bar=progress_bar,
        )
        elpds[name] = _arviz.elpd_data(elpd_i, p, n_draws)
        pointwise[name] = elpd_i
        details[name] = info

    stacking = _arviz.compare(elpds, "stacking")
    pseudo_bma = _arviz.compare(elpds, "pseudo-BMA")
    table = stacking.drop(columns="weight")
    table["weight_stacking"] = stacking["weight"]
    table["weight_pseudo_bma"] = pseudo_bma["weight"].reindex(table.index)
    for col in ("warning", "method", "n_flagged", "n_integrated", "n_refit", "mcse_refit"):
        table[col] = [details[n][col] for n in table.index]
    table = table[COLUMNS]
    table["warning"] = table["warning"].astype(bool)
    table["n_flagged"] = table["n_flagged"].astype(int)
    table["n_integrated"] = table["n_integrated"].astype(int)
    table["n_refit"] = table["n_refit"].astype(int)
    table.index.name = "model"
    table.attrs = {
        "ic": ic,
        "unit": unit,
        "details": {n: {key: v for key, v in d.items() if key not in COLUMNS} for n, d in details.items()},
    }
    for name in table.index[table["warning"]]:
        d = details[name]
        what = f"Pareto k above {d['threshold']:.2f}" if ic == "loo" else "p_waic_i > 0.4"
        advice = (
            "trial-level refits are not available; compare by participant (unit='participant')"
            if unit == "trial"
            else (
                "use ic='loo' (PSIS with exact refits) or ic='kfold'"
                if ic == "waic"
                else "use refit='auto' to refit them exactly"
            )
        )
        warnings.warn(
            f"model {name!r}: {len(d['unreliable'])} {unit}(s) with {what}, so its elpd is unreliable: {advice}.",
            UserWarning,
            stacklevel=2,
        )
    if not return_pointwise:
        return table
    frame = pd.DataFrame(pointwise, index=_unit_index(first, unit))
    frame.columns.name = "model"
    return table, frame


def participant_elpd(fits: Mapping[str, Fit], ic: str = "loo", **kwargs) -> pd.DataFrame:
    """Each participant's expected log predictive density under each model.

    The per-participant log evidence approximation that :func:`bms` takes (cross-validated,
    so it penalises complexity as a marginal likelihood would, though it is not one).

    Parameters
    ----------
    fits : mapping of str to Fit
    ic : {"loo", "waic", "kfold"}
    **kwargs
        Passed to :func:`compare` (``refit``, ``k``, ``mc_draws``, ``seed``...).

    Returns
    -------
    pandas.DataFrame, shape (participant, model)
        Indexed by participant id, one column per model in the order given.
    """
    if "unit" in kwargs and kwargs["unit"] != "participant":
        raise ValueError("participant_elpd is by participant; use compare(..., return_pointwise=True) for trials")
    kwargs.pop("unit", None)
    return compare(fits, ic, "participant", return_pointwise=True, **kwargs)[1]
