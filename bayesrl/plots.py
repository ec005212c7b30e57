"""Figures of a fit and of the validation tools.

Posterior predictive learning curves (the group, a subset, or each participant), choice-
probability calibration, a per-participant forest plot, group-level posteriors, ArviZ's
trace and rank plots, and the heat map of :func:`bayesrl.validate.model_recovery` and the
rank histograms of :func:`bayesrl.validate.sbc`.

matplotlib is imported inside the functions, so ``import bayesrl`` never needs it. Each
function draws on ``ax`` (a new figure when None) and returns the Axes (an array of Axes for
figures with one panel per parameter or participant).

The predicted choice probabilities come from the same engine the likelihood uses
(:func:`bayesrl.engine.logits`, observed choices fed in), so the figure checks exactly the
model that was fitted.
"""

from __future__ import annotations

import numpy as np

from . import engine
from .design import trial_values
from .results import hdi

__all__ = [
    "one_step_probabilities",
    "plot_calibration",
    "plot_group",
    "plot_learning_curve",
    "plot_model_recovery",
    "plot_participant_curves",
    "plot_participants",
    "plot_rank",
    "plot_sbc",
    "plot_trace",
]


def _require_model(fit):
    if fit.model is None:
        raise ValueError(
            "this fit has no model attached (a custom model loaded from a file); open it with "
            "brl.load_fit(path, model=your_model)"
        )
    return fit.model


def _require_one_stage(fit, what: str):
    """Refuse a model with several choices per trial (two-step): the curves follow one choice column."""
    model = _require_model(fit)
    if model.stages:
        raise ValueError(
            f"{what} follows one choice per trial, but model {model.name!r} makes {model.n_stages} "
            f"({', '.join(model.choice_columns)}); use fit.latents() (prob_<column>_<option> per stage) or "
            "fit.posterior_predictive() and plot the stage you want"
        )
    return model


def _thinned_draws(fit, num_draws: int, seed: int) -> dict:
    """Pick a seeded random subset of the posterior draws of each parameter.

    Returns
    -------
    dict of str to numpy.ndarray, each shape (draw, participant) (or (draw, participant,
        condition) for a parameter with conditions)
        At most ``num_draws`` draws, pooled over chains, in their original order.
    """
    if int(num_draws) != num_draws or num_draws < 1:
        raise ValueError(f"num_draws must be a positive integer, got {num_draws!r}")
    post = fit.posterior
    n_p = fit.data.n_participants
    flat = {}
    for p in fit.param_names:
        values = np.asarray(post[p].transpose("chain", "draw", "participant", ...))
        flat[p] = values.reshape((-1, n_p) + values.shape[3:])
    total = next(iter(flat.values())).shape[0]
    if num_draws < total:
        keep = np.sort(np.random.default_rng(seed).choice(total, size=int(num_draws), replace=False))
        flat = {p: v[keep] for p, v in flat.items()}
    return flat


def _map_draws(fit, num_draws: int, seed: int, reduce=None, batch_size: int = 16) -> np.ndarray:
    """Apply ``reduce`` to the one-step-ahead probabilities of each thinned draw.

    ``reduce(probs, key)`` maps probabilities of shape (participant, trial, option) and a
    per-draw random key to any array; the result gains a leading ``draw`` axis. Draws are
    processed in batches (``lax.map``), so only ``batch_size`` draws' probabilities are held
    at once.
    """
    import jax

    model = _require_model(fit)
    draws = _thinned_draws(fit, num_draws, seed)
    trials = fit.data.trials(model)
    reduce = reduce or (lambda probs, key: probs)
    conditions = fit.condition_index()
    n = next(iter(draws.values())).shape[0]
    keys = jax.random.split(jax.random.PRNGKey(seed), n)

    @jax.jit
    def run(params, keys):
        def one(args):
            p, key = args
            params = model.make_params(trial_values(p, conditions))
            probs = jax.nn.softmax(engine.logits(model, params, trials), axis=-1)
            return reduce(probs, key)

        return jax.lax.map(one, (params, keys), batch_size=batch_size)

    return np.asarray(run({p: jax.numpy.asarray(v) for p, v in draws.items()}, keys))


def one_step_probabilities(fit, num_draws: int = 200, seed: int = 0) -> np.ndarray:
    """One-step-ahead choice probabilities under thinned posterior draws.

    For each kept draw, every participant's trials are replayed with the observed choices and
    outcomes fed in (the likelihood's own path, :func:`bayesrl.engine.logits`), and the
    softmax of the logits on each trial is the probability of each option *before* that
    trial's feedback.

    Parameters
    ----------
    fit : bayesrl.Fit
        A fit with its model attached.
    num_draws : int, default 200
        Posterior draws to use (a seeded random subset of all chains' draws; all of them
        when there are fewer).
    seed : int, default 0
        Seed of the subset.

    Returns
    -------
    numpy.ndarray, shape (draw, participant, trial, option)
        Probabilities summing to 1 over ``option`` (shape (draw, participant, trial, stage,
        option) for a model with several choices per trial, each stage over its offered
        options). Padded and masked trials hold the probabilities the unchanged state would
        give; select real trials with ``fit.data.arrays["valid"]`` (shape (participant, trial)).

    Raises
    ------
    ValueError
        When the fit has no model attached or ``num_draws`` is not a positive integer.
    """
    return _map_draws(fit, num_draws, seed)


def _better_option(fit) -> int:
    """Find the option with the highest mean outcome when chosen (valid trials), 0-based.

    Falls back to the option chosen most often when the model has no ``outcome`` column.
    """
    arrays = fit.data.arrays
    valid = arrays["valid"]
    choice = arrays["choice"][valid]
    k = fit.data.n_options
    if "outcome" not in arrays:
        return int(np.argmax(np.bincount(choice, minlength=k)))
    outcome = np.asarray(arrays["outcome"])[valid]
    means = np.array([outcome[choice == o].mean() if np.any(choice == o) else -np.inf for o in range(k)])
    return int(np.argmax(means))


def _participant_mask(fit, participants) -> np.ndarray:
    """Boolean mask over ``fit.data.participants`` selecting ``participants`` (ids; None: all)."""
    ids = [str(p) for p in fit.data.participants]
    if participants is None:
        return np.ones(len(ids), bool)
    if isinstance(participants, (str, int, np.integer)):
        participants = [participants]
    wanted = [str(p) for p in participants]
    unknown = [p for p in wanted if p not in ids]
    if unknown or not wanted:
        raise ValueError(
            f"participants= names ids not in the fit: {unknown} (the fit has {ids[:8]}{'...' * (len(ids) > 8)})"
        )
    return np.isin(ids, wanted)


def _option_index(fit, option) -> int:
    k, base = fit.data.n_options, fit.data.choice_base
    if option is None:
        return _better_option(fit)
    o = int(option) - base
    if not 0 <= o < k:
        raise ValueError(f"option must be one of {list(range(base, base + k))} (the data's coding), got {option!r}")
    return o


def _check_hdi_prob(hdi_prob):
    if not 0 < hdi_prob < 1:
        raise ValueError(f"hdi_prob must be in (0, 1), got {hdi_prob!r}")


def _ppc_arrays(ppc, fit):
    """Arrays of a :meth:`bayesrl.Fit.posterior_predictive` result, chains pooled.

    Returns ``choice_prob`` (draw, participant, trial, option) and ``choice`` (draw,
    participant, trial).
    """
    import xarray as xr

    if isinstance(ppc, xr.DataTree if hasattr(xr, "DataTree") else ()):
        ppc = ppc.to_dataset()
    if not isinstance(ppc, xr.Dataset) or "choice_prob" not in ppc or "choice" not in ppc:
        raise ValueError("ppc must be the Dataset fit.posterior_predictive(...) returns (choice, choice_prob)")
    if [str(p) for p in ppc["participant"].values] != [str(p) for p in fit.data.participants]:
        raise ValueError("ppc holds other participants than the fit: pass the fit it came from")
    dims = ("chain", "draw", "participant", "trial")
    probs = np.asarray(ppc["choice_prob"].transpose(*dims, "option").values)
    choice = np.asarray(ppc["choice"].transpose(*dims).values)
    return probs.reshape((-1,) + probs.shape[2:]), choice.reshape((-1,) + choice.shape[2:])


def _group_curve(fit, o, mask, ppc, num_draws, seed):
    """Per-draw predicted probability and simulated proportion of option ``o``.

    Both are averaged over the selected participants with a choice at each trial.

    Returns
    -------
    predicted, simulated : numpy.ndarray, shape (draw, trial)
    has : bool array, shape (trial,)
        Trials where some selected participant has a (simulated) choice.
    """
    import jax
    import jax.numpy as jnp

    if ppc is not None:
        probs, choice = _ppc_arrays(ppc, fit)
        valid = (choice[0] >= 0) & mask[:, None]  # (participant, trial): the same in every draw
        n_valid = valid.sum(axis=0)
        w = valid / np.maximum(n_valid, 1)
        predicted = np.einsum("dpt,pt->dt", np.nan_to_num(probs[..., o]), w)
        simulated = np.einsum("dpt,pt->dt", (choice == o).astype(float), w)
        return predicted, simulated, n_valid > 0
    valid = fit.data.arrays["valid"] & mask[:, None]
    n_valid = valid.sum(axis=0)
    weights = jnp.asarray(valid / np.maximum(n_valid, 1))  # (participant, trial), each column sums to 1

    def per_trial(probs, key):  # (participant, trial, option) -> (2, trial)
        p_o = probs[:, :, o]
        w = weights.astype(p_o.dtype)
        simulated = (jax.random.uniform(key, p_o.shape, dtype=p_o.dtype) < p_o).astype(p_o.dtype)
        return jnp.stack([(p_o * w).sum(axis=0), (simulated * w).sum(axis=0)])

    out = _map_draws(fit, num_draws, seed, reduce=per_trial)  # (draw, 2, trial)
    return out[:, 0], out[:, 1], n_valid > 0


def plot_learning_curve(
    fit,
    ax=None,
    option=None,
    hdi_prob: float = 0.9,
    num_draws: int = 200,
    seed: int = 0,
    *,
    predictive: bool = True,
    participants=None,
    ppc=None,
):
    """Posterior predictive learning curve: observed against predicted choice proportions.

    At each trial position the observed proportion of participants choosing ``option``
    (among those with a valid trial there) is drawn against the model's predicted probability
    of that option averaged over the same participants: the posterior mean as a line and the
    ``hdi_prob`` HDI over draws as a dark band. That band shows parameter uncertainty only;
    with ``predictive=True`` a light band adds the sampling noise of the choices (one
    simulated choice per participant and trial from each draw), which is where the observed
    proportions should fall about ``hdi_prob`` of the time.

    Parameters
    ----------
    fit : bayesrl.Fit
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure when None.
    option : int, optional
        The option to follow, in the data's own coding (1..K for 1-based choices). Defaults
        to the "better" option: the one with the highest mean outcome when chosen.
    hdi_prob : float, default 0.9
        Probability mass of the bands.
    num_draws : int, default 200
        Posterior draws used for the prediction (without ``ppc``).
    seed : int, default 0
        Seed of the draw subset and of the simulated choices (without ``ppc``).

    Other Parameters
    ----------------
    predictive : bool, default True
        Also draw the predictive band of the observed proportion.
    participants : id or list of ids, optional
        Average over these participants only (e.g. one experimental group); default all.
        :func:`plot_participant_curves` draws one panel per participant.
    ppc : xarray.Dataset, optional
        A result of :meth:`bayesrl.Fit.posterior_predictive`: ``"one_step"`` (default when
        None, computed here without storing it: probabilities given each participant's own
        history) or ``"generative"`` (whole simulated sessions; the curve then shows what the
        model does on its own, the harder check).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        For an option outside the data's coding, ``hdi_prob`` outside (0, 1), unknown
        participant ids, or a ``ppc`` that is not a posterior predictive result of this fit.
    """
    import matplotlib.pyplot as plt

    _require_one_stage(fit, "plot_learning_curve")
    o = _option_index(fit, option)
    _check_hdi_prob(hdi_prob)
    mask = _participant_mask(fit, participants)
    valid = fit.data.arrays["valid"] & mask[:, None]  # (participant, trial)
    n_valid = valid.sum(axis=0)  # (trial,)
    has_obs = n_valid > 0
    observed = np.full(valid.shape[1], np.nan)
    observed[has_obs] = ((fit.data.arrays["choice"] == o) & valid).sum(axis=0)[has_obs] / n_valid[has_obs]

    predicted, simulated, has = _group_curve(fit, o, mask, ppc, num_draws, seed)
    mean = predicted.mean(axis=0)
    lo, hi = hdi(predicted, hdi_prob)
    plo, phi = hdi(simulated, hdi_prob)
    mean, lo, hi, plo, phi = (np.where(has, a, np.nan) for a in (mean, lo, hi, plo, phi))
    x = np.arange(1, predicted.shape[1] + 1)
    x_obs = np.arange(1, valid.shape[1] + 1)

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    if predictive:
        ax.fill_between(
            x,
            plo,
            phi,
            color="C0",
            alpha=0.12,
            linewidth=0,
            step="mid",
            label=f"{hdi_prob:.0%} predictive interval (with choice noise)",
        )
    ax.fill_between(x, lo, hi, color="C0", alpha=0.35, linewidth=0, label=f"{hdi_prob:.0%} HDI of mean probability")
    ax.plot(x, mean, color="C0", linewidth=2, label="predicted (posterior mean)")
    ax.plot(x_obs, observed, color="k", marker="o", markersize=3, linewidth=0.8, alpha=0.8, label="observed")
    ax.set_xlim(0.5, max(x[-1], x_obs[-1]) + 0.5)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("trial")
    ax.set_ylabel(f"P(choose option {o + fit.data.choice_base})")
    name = fit.metadata["model"]["name"]
    mode = "" if ppc is None else f", {ppc.attrs.get('mode', 'ppc')}"
    ax.set_title(
        f"Posterior predictive learning curve: {name}, {int(mask.sum())} participants, "
        f"{predicted.shape[0]} draws{mode}",
        fontsize="medium",
    )
    ax.legend(loc="lower right", frameon=False, fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def _new_grid(n: int, ncols: int, size=(3.0, 2.2), sharex=True, sharey=True):
    import matplotlib.pyplot as plt

    ncols = max(1, min(int(ncols), n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(size[0] * ncols, size[1] * nrows + 0.4),
        sharex=sharex,
        sharey=sharey,
        squeeze=False,
        layout="constrained",
    )
    for a in axes.ravel()[n:]:
        a.set_visible(False)
    return fig, axes.ravel()[:n]


def _given_axes(ax, n: int, what: str):
    """``ax`` as a flat array of ``n`` Axes, or an error saying how many are needed."""
    axes = np.asarray(ax, dtype=object).ravel()
    if axes.size != n:
        raise ValueError(f"ax= must hold {n} Axes (one per {what}), got {axes.size}")
    return axes


def plot_participant_curves(
    fit,
    participants=None,
    ax=None,
    option=None,
    hdi_prob: float = 0.9,
    num_draws: int = 200,
    seed: int = 0,
    *,
    window: int = 10,
    ncols: int = 4,
    ppc=None,
):
    """One small learning-curve panel per participant: predicted probability and observed choices.

    Each panel shows the participant's predicted probability of ``option`` on every trial (the
    posterior mean of the one-step-ahead probability, given the participant's own history,
    with its ``hdi_prob`` HDI over draws), the observed choices as ticks at 1 (chose
    ``option``) and 0 (another option), and their moving average over ``window`` trials.

    Parameters
    ----------
    fit : bayesrl.Fit
    participants : list of ids, optional
        Default: the first 12 participants.
    ax : array of matplotlib.axes.Axes, optional
        One Axes per participant; a new grid of ``ncols`` columns when None.
    option : int, optional
        In the data's coding; default the better option (as :func:`plot_learning_curve`).
    hdi_prob : float, default 0.9
    num_draws, seed : int
        Draws and seed of the one-step-ahead prediction (without ``ppc``).

    Other Parameters
    ----------------
    window : int, default 10
        Trials in the moving average of the observed choices.
    ncols : int, default 4
    ppc : xarray.Dataset, optional
        A ``"one_step"`` result of :meth:`bayesrl.Fit.posterior_predictive` to use instead.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes, shape (participant,)
    """
    _require_one_stage(fit, "plot_participant_curves")
    o = _option_index(fit, option)
    _check_hdi_prob(hdi_prob)
    if participants is None:
        participants = [p for p in fit.data.participants[:12]]
    if isinstance(participants, (str, int, np.integer)):
        participants = [participants]
    _participant_mask(fit, participants)  # checks the ids
    ids = [str(p) for p in fit.data.participants]
    order = [ids.index(str(p)) for p in participants]
    if ppc is None:
        probs = one_step_probabilities(fit, num_draws=num_draws, seed=seed)[..., o]  # (draw, participant, trial)
    else:
        if ppc.attrs.get("mode") != "one_step":
            raise ValueError(
                "plot_participant_curves compares each trial with the participant's own history: pass a 'one_step' ppc"
            )
        probs = np.nan_to_num(_ppc_arrays(ppc, fit)[0][..., o])
    valid, choice = fit.data.arrays["valid"], fit.data.arrays["choice"]
    axes = _new_grid(len(order), ncols)[1] if ax is None else _given_axes(ax, len(order), "participant")
    base = fit.data.choice_base
    for a, i in zip(axes, order, strict=True):
        v = valid[i]
        t = np.arange(1, v.size + 1)[v]
        p = probs[:, i][:, v]
        lo, hi = hdi(p, hdi_prob)
        a.fill_between(t, lo, hi, color="C0", alpha=0.3, linewidth=0)
        a.plot(t, p.mean(axis=0), color="C0", linewidth=1.5)
        chose = (choice[i][v] == o).astype(float)
        a.plot(t, chose, "|", color="k", markersize=4, alpha=0.5)
        if chose.size >= window:
            smooth = np.convolve(chose, np.ones(window) / window, mode="valid")
            a.plot(t[window - 1 :], smooth, color="C3", linewidth=1)
        a.set_title(str(ids[i]), fontsize="small")
        a.set_ylim(-0.08, 1.08)
        a.grid(alpha=0.3)
    fig = axes[0].figure
    handles = [
        _line("C0", 1.5, "predicted (posterior mean)"),
        _patch("C0", 0.3, f"{hdi_prob:.0%} HDI"),
        _line("k", 0, "observed choice (1: chose it)", marker="|"),
        _line("C3", 1, f"observed, moving average of {window}"),
    ]
    if ax is None:
        fig.supxlabel("trial", fontsize="small")
        fig.supylabel(f"P(choose option {o + base})", fontsize="small")
        fig.legend(handles=handles, loc="outside upper center", ncols=4, frameon=False, fontsize="small")
    return axes


def _line(color, width, label, marker=None):
    from matplotlib.lines import Line2D

    return Line2D([], [], color=color, linewidth=width, marker=marker, label=label)


def _patch(color, alpha, label):
    from matplotlib.patches import Patch

    return Patch(color=color, alpha=alpha, label=label, linewidth=0)


def plot_participants(fit, param: str, ax=None, hdi_prob: float = 0.94, *, true_values=None):
    """Forest plot of one parameter: each participant's posterior mean and HDI.

    Parameters
    ----------
    fit : bayesrl.Fit
    param : str
        A parameter of the model, e.g. ``"alpha"``.
    ax : matplotlib.axes.Axes, optional
        Drawn on a new figure when None.
    hdi_prob : float, default 0.94
        Probability mass of each interval.
    true_values : pandas.Series or array_like, optional
        Known values to mark (e.g. the generating values of simulated data): a Series indexed
        by participant id, or an array of shape (participant,) in ``fit.participants()`` order.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        For a name that is not a parameter of the model.
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    table = fit.participants(hdi_prob=hdi_prob)
    if f"{param}_mean" not in table.columns:
        known = [c[: -len("_mean")] for c in table.columns if c.endswith("_mean")]
        raise ValueError(f"unknown parameter {param!r}; this fit has {known}")
    n = len(table)
    y = np.arange(n)[::-1]  # first participant at the top
    mean = table[f"{param}_mean"].to_numpy()
    lo, hi = table[f"{param}_hdi_lower"].to_numpy(), table[f"{param}_hdi_upper"].to_numpy()

    if ax is None:
        _, ax = plt.subplots(figsize=(6, max(3.0, 0.25 * n + 1.2)), layout="constrained")
    ax.hlines(y, lo, hi, color="C0", linewidth=2, label=f"{hdi_prob:.0%} HDI")
    ax.plot(mean, y, "o", color="C0", markersize=5, label="posterior mean")
    group = f"{param}_group"
    if group in fit.posterior:
        location = float(fit.posterior[group].mean())
        ax.axvline(location, color="0.4", linestyle="--", linewidth=1, label=f"group location ({group})")
    if true_values is not None:
        if isinstance(true_values, pd.Series):
            truth = true_values.reindex(table.index).to_numpy(dtype=float)
        else:
            truth = np.asarray(true_values, dtype=float)
            if truth.shape != (n,):
                raise ValueError(f"true_values must have shape ({n},) (one per participant), got {truth.shape}")
        ax.plot(truth, y, "x", color="C3", markersize=6, markeredgewidth=1.5, label="true value")
    if n <= 60:
        ax.set_yticks(y, [str(p) for p in table.index])
    else:
        ax.set_yticks([])
    ax.set_ylim(-0.8, n - 0.2)
    ax.set_ylabel("participant")
    ax.set_xlabel(param)
    ax.set_title(f"{param} by participant ({fit.metadata['model']['name']})", fontsize="medium")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize="small")
    ax.grid(axis="x", alpha=0.3)
    return ax


def calibration_table(fit, ppc=None, n_bins: int = 10, hdi_prob: float = 0.9, num_draws: int = 200, seed: int = 0):
    """Binned one-step-ahead choice probabilities against how often the option was chosen.

    Every valid trial gives one forecast per option: the posterior mean of the probability of
    that option given the participant's own history, and whether it was chosen. Forecasts are
    binned on [0, 1]; a calibrated model chooses an option about as often as it predicts.

    Parameters
    ----------
    fit : bayesrl.Fit
    ppc : xarray.Dataset, optional
        A ``"one_step"`` result of :meth:`bayesrl.Fit.posterior_predictive`; computed here
        (and not stored) when None.
    n_bins : int, default 10
        Equal-width bins of the predicted probability.
    hdi_prob : float, default 0.9
        Mass of the consistency band.
    num_draws, seed : int
        Draws and seed when ``ppc`` is None.

    Returns
    -------
    pandas.DataFrame
        One row per non-empty bin: ``bin_lower``, ``bin_upper``, ``count`` (forecasts),
        ``predicted`` (their mean), ``observed`` (share chosen), ``band_lower``,
        ``band_upper`` (``hdi_prob`` interval of the share chosen in the model's own simulated
        choices, one per posterior draw: where ``observed`` should fall if the model is right).
    """
    import pandas as pd

    from . import predictive as predictive_mod

    _require_one_stage(fit, "calibration_table")
    _check_hdi_prob(hdi_prob)
    if int(n_bins) != n_bins or n_bins < 2:
        raise ValueError(f"n_bins must be an integer >= 2, got {n_bins!r}")
    if ppc is None:
        ppc = predictive_mod.one_step(fit, num_draws=num_draws, seed=seed)
    elif ppc.attrs.get("mode") != "one_step":
        raise ValueError(
            "calibration compares each observed choice with the probability given the participant's own "
            "history: pass fit.posterior_predictive('one_step')"
        )
    probs, sim = _ppc_arrays(ppc, fit)  # (draw, participant, trial, option), (draw, participant, trial)
    valid = fit.data.arrays["valid"]
    k = probs.shape[-1]
    forecast = probs.mean(axis=0)[valid]  # (forecast trial, option)
    chosen = fit.data.arrays["choice"][valid][:, None] == np.arange(k)
    simulated = sim[:, valid][..., None] == np.arange(k)  # (draw, forecast trial, option)
    edges = np.linspace(0, 1, int(n_bins) + 1)
    which = np.clip(np.digitize(forecast, edges[1:-1]), 0, n_bins - 1)
    rows = []
    for b in range(int(n_bins)):
        sel = which == b
        n = int(sel.sum())
        if n == 0:
            continue
        shares = simulated[:, sel].mean(axis=1)  # (draw,)
        lo, hi = hdi(shares[:, None], hdi_prob)
        rows.append(
            {
                "bin_lower": edges[b],
                "bin_upper": edges[b + 1],
                "count": n,
                "predicted": float(forecast[sel].mean()),
                "observed": float(chosen[sel].mean()),
                "band_lower": float(lo[0]),
                "band_upper": float(hi[0]),
            }
        )
    return pd.DataFrame(rows)


def plot_calibration(
    fit, ax=None, n_bins: int = 10, hdi_prob: float = 0.9, num_draws: int = 200, seed: int = 0, *, ppc=None
):
    """Choice-probability calibration: predicted probability against observed choice frequency.

    Points are :func:`calibration_table`'s bins (observed share chosen against mean predicted
    probability, sized by their number of forecasts, which are also printed along the
    bottom); error bars are the consistency band, the ``hdi_prob`` interval of the same share
    in choices simulated by the model itself. Points off the diagonal and outside their band
    mean the model is over- or under-confident there.

    Parameters
    ----------
    fit : bayesrl.Fit
    ax : matplotlib.axes.Axes, optional
    n_bins : int, default 10
    hdi_prob : float, default 0.9
    num_draws, seed : int
        Draws and seed of the one-step-ahead prediction (without ``ppc``).

    Other Parameters
    ----------------
    ppc : xarray.Dataset, optional
        A ``"one_step"`` result of :meth:`bayesrl.Fit.posterior_predictive`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    table = calibration_table(fit, ppc=ppc, n_bins=n_bins, hdi_prob=hdi_prob, num_draws=num_draws, seed=seed)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.2, 5), layout="constrained")
    ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label="perfect calibration")
    x, y = table["predicted"].to_numpy(), table["observed"].to_numpy()
    ax.vlines(
        x,
        table["band_lower"],
        table["band_upper"],
        color="C0",
        linewidth=7,
        alpha=0.35,
        label=f"{hdi_prob:.0%} band if the model is right",
    )
    sizes = 20 + 180 * table["count"].to_numpy() / table["count"].max()
    ax.scatter(x, y, s=sizes, color="k", zorder=3, label="observed (size: forecasts)")
    for xi, n in zip(x, table["count"], strict=True):
        ax.annotate(
            str(int(n)), (xi, 0.0), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=7, color="0.35"
        )
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("predicted probability (one step ahead, posterior mean)")
    ax.set_ylabel("observed frequency chosen")
    ax.set_title(
        f"Calibration: {fit.metadata['model']['name']} ({int(table['count'].sum())} forecasts)", fontsize="medium"
    )
    ax.legend(loc="upper left", frameon=False, fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def plot_group(fit, params=None, ax=None, hdi_prob: float = 0.94, *, population: bool = True, seed: int = 0):
    """Group-level posteriors on the natural scale, one panel per parameter.

    Each panel shows the posterior of ``p_group`` (the group location ``f(p_mu)``, hBayesDM's
    ``mu_p``) as a histogram with its mean and ``hdi_prob`` HDI, the participants' posterior
    means as a rug and, with ``population=True``, the population distribution: the
    distribution of a new participant's parameter ``f(p_mu + p_sigma * z)``, ``z ~ N(0, 1)``,
    over the posterior (the spread the group scale ``p_sigma`` implies).

    Parameters
    ----------
    fit : bayesrl.Fit
    params : list of str, optional
        Default: every parameter of the model.
    ax : array of matplotlib.axes.Axes, optional
        One per parameter; a new row of panels when None.
    hdi_prob : float, default 0.94

    Other Parameters
    ----------------
    population : bool, default True
    seed : int, default 0
        Seed of the ``z`` draws of the population distribution.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes, shape (parameter,)

    Raises
    ------
    ValueError
        For names that are not parameters of the model, or a fit without group-level
        variables.
    """
    from .transforms import Parameter

    _check_hdi_prob(hdi_prob)
    params = list(fit.param_names if params is None else ([params] if isinstance(params, str) else params))
    unknown = [p for p in params if p not in fit.param_names]
    if unknown:
        raise ValueError(f"unknown parameters {unknown}; this fit has {fit.param_names}")
    post = fit.posterior
    missing = [f"{p}_group" for p in params if f"{p}_group" not in post]
    if missing:
        raise ValueError(f"this fit has no group-level variables {missing}")
    axes = (
        _new_grid(len(params), 4, size=(3.4, 2.8), sharex=False, sharey=False)[1]
        if ax is None
        else _given_axes(ax, len(params), "parameter")
    )
    specs = fit.metadata["model"]["params"]
    means = fit.participants()
    rng = np.random.default_rng(seed)
    for a, p in zip(axes, params, strict=True):
        draws = np.asarray(post[f"{p}_group"]).ravel()
        if population:
            spec = Parameter(float(specs[p]["lower"]), float(specs[p]["upper"]), specs[p]["link"])
            raw = np.asarray(post[f"{p}_mu"]).ravel() + np.asarray(post[f"{p}_sigma"]).ravel() * rng.standard_normal(
                draws.size
            )
            pop = np.asarray(spec.constrain(raw), dtype=float)
            a.hist(
                pop,
                bins=40,
                density=True,
                histtype="step",
                color="C1",
                linewidth=1.2,
                label="population (new participant)",
            )
        a.hist(draws, bins=40, density=True, color="C0", alpha=0.55, label=f"{p}_group posterior")
        lo, hi = hdi(draws[:, None], hdi_prob)
        y0 = a.get_ylim()[1] * 0.03
        a.hlines(y0, lo[0], hi[0], color="k", linewidth=3, label=f"{hdi_prob:.0%} HDI")
        a.plot(draws.mean(), y0, "o", color="w", markeredgecolor="k", zorder=3, label="posterior mean")
        a.plot(means[f"{p}_mean"], np.zeros(len(means)), "|", color="C3", markersize=10, label="participant means")
        a.set_xlabel(p)
        a.set_yticks([])
        a.set_title(f"{p}_group = {draws.mean():.3g} [{lo[0]:.3g}, {hi[0]:.3g}]", fontsize="small")
    axes[0].legend(loc="upper right", frameon=False, fontsize="x-small")
    return axes


def _arviz_plot(kind: str, fit, var_names, ax, kwargs):
    """ArviZ's trace or rank plot of ``fit.idata`` on ArviZ 0.2x (arviz) or 1.x (arviz_plots)."""
    from . import _arviz

    names = list(
        fit.group_var_names() if var_names is None else ([var_names] if isinstance(var_names, str) else var_names)
    )
    names = [n for n in names if not n.endswith("_group")] if var_names is None else names
    unknown = [n for n in names if n not in fit.posterior]
    if unknown:
        raise ValueError(f"var_names {unknown} are not in the posterior; it has {sorted(fit.posterior.data_vars)}")
    if not _arviz.ARVIZ_1:
        import arviz as az

        if kind == "trace":
            return np.asarray(az.plot_trace(fit.idata, var_names=names, axes=ax, **kwargs))
        return np.asarray(az.plot_rank(fit.idata, var_names=names, ax=ax, **kwargs))
    try:
        import arviz_plots as azp
    except ImportError as err:  # pragma: no cover - arviz 1.x installs it
        raise ImportError(
            "ArviZ 1.x draws its plots with the arviz-plots package: pip install 'arviz-plots[matplotlib]'"
        ) from err
    if ax is not None:
        raise ValueError(
            "with ArviZ 1.x (arviz_plots) the trace and rank plots make their own figure: call without ax= "
            "and use the returned Axes (their .figure is the figure)"
        )
    kwargs.setdefault("backend", "matplotlib")
    if kwargs["backend"] != "matplotlib":
        raise ValueError(
            "bayesrl.plots returns matplotlib Axes: use backend='matplotlib' (or call arviz_plots yourself)"
        )
    function = azp.plot_trace_dist if kind == "trace" else azp.plot_rank
    collection = function(fit.idata, var_names=names, **kwargs)
    figure = collection.viz["figure"]
    figure = figure.item() if hasattr(figure, "item") else figure
    return np.asarray(figure.axes, dtype=object)


def plot_trace(fit, var_names=None, ax=None, **kwargs):
    """ArviZ's trace plot (density and trace of each chain) of the fit's posterior.

    Parameters
    ----------
    fit : bayesrl.Fit
    var_names : list of str, optional
        Default: the sampled group-level variables ``p_mu`` and ``p_sigma`` of every
        parameter.
    ax : array of matplotlib.axes.Axes, optional
        ArviZ 0.2x only (its ``axes=``, shape (variable, 2)); ArviZ 1.x makes its own figure.
    **kwargs
        Passed on: to ``arviz.plot_trace`` (0.2x) or ``arviz_plots.plot_trace_dist`` (1.x).

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        ArviZ 0.2x: shape (variable, 2) as ArviZ returns it; ArviZ 1.x: the figure's Axes.

    Raises
    ------
    ValueError
        For names not in the posterior, or ``ax=`` under ArviZ 1.x.
    """
    return _arviz_plot("trace", fit, var_names, ax, dict(kwargs))


def plot_rank(fit, var_names=None, ax=None, **kwargs):
    """ArviZ's rank plot of the fit's posterior (chains that mix well give uniform ranks).

    ArviZ 0.2x draws rank histograms per chain (``arviz.plot_rank``); ArviZ 1.x draws the
    fractional-rank ECDF with its simultaneous envelope (``arviz_plots.plot_rank``).

    Parameters
    ----------
    fit : bayesrl.Fit
    var_names : list of str, optional
        Default: ``p_mu`` and ``p_sigma`` of every parameter.
    ax : array of matplotlib.axes.Axes, optional
        ArviZ 0.2x only.
    **kwargs
        Passed on to ArviZ.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
    """
    return _arviz_plot("rank", fit, var_names, ax, dict(kwargs))


def plot_model_recovery(result, kind: str = "confusion", ax=None):
    """Heat map of a model recovery: the confusion or the inversion matrix.

    Parameters
    ----------
    result : bayesrl.validate.ModelRecovery
        From :func:`bayesrl.validate.model_recovery`.
    kind : {"confusion", "inversion"}
        ``"confusion"``: P(winning model | generating model), rows the generating model
        (counts printed in the cells); ``"inversion"``: P(generating model | winning model),
        rows the winning model.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if kind not in ("confusion", "inversion"):
        raise ValueError(f"kind must be 'confusion' or 'inversion', got {kind!r}")
    counts = result.counts
    if kind == "confusion":
        matrix, rows, cols = result.confusion, "generating model", "winning model (LOO)"
    else:
        matrix, rows, cols = result.inversion, "winning model (LOO)", "generating model"
    values = matrix.to_numpy(dtype=float)
    if ax is None:
        n = len(matrix)
        _, ax = plt.subplots(figsize=(2.2 + 1.1 * n, 1.6 + 0.9 * n), layout="constrained")
    image = ax.imshow(values, vmin=0, vmax=1, cmap="Blues")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            n_ij = counts.iloc[i, j] if kind == "confusion" else counts.iloc[j, i]
            text = "-" if np.isnan(values[i, j]) else f"{values[i, j]:.2f}\n({int(n_ij)})"
            ax.text(j, i, text, ha="center", va="center", fontsize="small", color="w" if values[i, j] > 0.6 else "k")
    ax.set_xticks(range(values.shape[1]), matrix.columns, rotation=30, ha="right")
    ax.set_yticks(range(values.shape[0]), matrix.index)
    ax.set_xlabel(cols)
    ax.set_ylabel(rows)
    title = "P(winner | generator)" if kind == "confusion" else "P(generator | winner)"
    ax.set_title(f"Model recovery: {title}, {int(counts.to_numpy().sum())} data sets", fontsize="medium")
    ax.figure.colorbar(image, ax=ax, shrink=0.8)
    return ax


def plot_sbc(result, ax=None, n_bins=None, band_prob: float = 0.99):
    """Rank histograms of a simulation-based calibration, one panel per variable.

    Under a calibrated fit the ranks are uniform: each bin's count is Binomial(n, 1/bins),
    drawn as the grey ``band_prob`` band (Talts et al. 2018). A smile means an over-confident
    posterior (too narrow), a frown an under-confident one, a slope a biased one.

    Parameters
    ----------
    result : bayesrl.validate.SBC
        From :func:`bayesrl.validate.sbc`.
    ax : array of matplotlib.axes.Axes, optional
        One per variable.
    n_bins : int, optional
        Default: the bins of the result's uniformity test.
    band_prob : float, default 0.99

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes, shape (variable,)
    """
    from scipy import stats

    names = list(result.ranks.columns)
    n_bins = int(result.n_bins if n_bins is None else n_bins)
    axes = (
        _new_grid(len(names), 4, size=(3.2, 2.5), sharey=True)[1]
        if ax is None
        else _given_axes(ax, len(names), "variable")
    )
    n = len(result.ranks)
    lo, hi = stats.binom.interval(band_prob, n, 1 / n_bins)
    edges = np.linspace(0, result.n_draws + 1, n_bins + 1)
    for a, name in zip(axes, names, strict=True):
        a.axhspan(lo, hi, color="0.85", label=f"{band_prob:.0%} band under uniformity")
        a.axhline(n / n_bins, color="0.5", linewidth=1)
        a.hist(result.ranks[name].to_numpy() + 0.5, bins=edges, color="C0", alpha=0.8, edgecolor="w")
        p = result.test.loc[name, "p_value"] if name in result.test.index else np.nan
        a.set_title(f"{name}  (p = {p:.3g})", fontsize="small")
        a.set_xlim(0, result.n_draws + 1)
        a.set_xlabel(f"rank among {result.n_draws} draws", fontsize="small")
    axes[0].set_ylabel(f"simulations (of {n})")
    axes[0].legend(loc="upper right", frameon=False, fontsize="x-small")
    return axes
