"""Figures of a fit: a posterior predictive learning curve and a per-participant forest plot.

matplotlib is imported inside the functions, so ``import bayesrl`` never needs it. Each
function draws on ``ax`` (a new figure when None) and returns the Axes.

The predicted choice probabilities come from the same engine the likelihood uses
(:func:`bayesrl.engine.logits`, observed choices fed in), so the figure checks exactly the
model that was fitted.
"""

from __future__ import annotations

import numpy as np

from . import engine
from .design import trial_values
from .results import hdi

__all__ = ["one_step_probabilities", "plot_learning_curve", "plot_participants"]


def _require_model(fit):
    if fit.model is None:
        raise ValueError(
            "this fit has no model attached (a custom model loaded from a file); open it with "
            "brl.load_fit(path, model=your_model)"
        )
    return fit.model


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


def plot_learning_curve(
    fit, ax=None, option=None, hdi_prob: float = 0.9, num_draws: int = 200, seed: int = 0, *, predictive: bool = True
):
    """Posterior predictive learning curve: observed against predicted choice proportions.

    At each trial position the observed proportion of participants choosing ``option``
    (among those with a valid trial there) is drawn against the model's one-step-ahead
    probability of that option (:func:`one_step_probabilities`) averaged over the same
    participants: the posterior mean as a line and the ``hdi_prob`` HDI over draws as a
    dark band. That band shows parameter uncertainty only; with ``predictive=True`` a light
    band adds the sampling noise of the choices (one simulated choice per participant and
    trial from each draw's probabilities), which is where the observed proportions should
    fall about ``hdi_prob`` of the time.

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
        Posterior draws used for the prediction.
    seed : int, default 0
        Seed of the draw subset and of the simulated choices.

    Other Parameters
    ----------------
    predictive : bool, default True
        Also draw the predictive band of the observed proportion.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import jax
    import jax.numpy as jnp
    import matplotlib.pyplot as plt

    model = _require_model(fit)
    if model.stages:
        raise ValueError(
            f"plot_learning_curve follows one choice per trial, but model {model.name!r} makes {model.n_stages} "
            f"({', '.join(model.choice_columns)}); use fit.latents() (prob_<column>_<option> per stage) or "
            "fit.posterior_predictive() and plot the stage you want"
        )
    k, base = fit.data.n_options, fit.data.choice_base
    if option is None:
        o = _better_option(fit)
    else:
        o = int(option) - base
        if not 0 <= o < k:
            raise ValueError(f"option must be one of {list(range(base, base + k))} (the data's coding), got {option!r}")
    if not 0 < hdi_prob < 1:
        raise ValueError(f"hdi_prob must be in (0, 1), got {hdi_prob!r}")

    valid = fit.data.arrays["valid"]  # (participant, trial)
    n_valid = valid.sum(axis=0)  # (trial,)
    has = n_valid > 0
    observed = np.full(valid.shape[1], np.nan)
    observed[has] = ((fit.data.arrays["choice"] == o) & valid).sum(axis=0)[has] / n_valid[has]
    weights = jnp.asarray(valid / np.maximum(n_valid, 1))  # (participant, trial), each column sums to 1

    def per_trial(probs, key):  # (participant, trial, option) -> (2, trial)
        p_o = probs[:, :, o]
        w = weights.astype(p_o.dtype)
        simulated = (jax.random.uniform(key, p_o.shape, dtype=p_o.dtype) < p_o).astype(p_o.dtype)
        return jnp.stack([(p_o * w).sum(axis=0), (simulated * w).sum(axis=0)])

    out = _map_draws(fit, num_draws, seed, reduce=per_trial)  # (draw, 2, trial)
    predicted, simulated = out[:, 0], out[:, 1]
    mean = predicted.mean(axis=0)
    lo, hi = hdi(predicted, hdi_prob)
    plo, phi = hdi(simulated, hdi_prob)
    mean, lo, hi, plo, phi = (np.where(has, a, np.nan) for a in (mean, lo, hi, plo, phi))
    x = np.arange(1, valid.shape[1] + 1)

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
    ax.plot(x, observed, color="k", marker="o", markersize=3, linewidth=0.8, alpha=0.8, label="observed")
    ax.set_xlim(x[0] - 0.5, x[-1] + 0.5)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("trial")
    ax.set_ylabel(f"P(choose option {o + base})")
    name = fit.metadata["model"]["name"]
    ax.set_title(
        f"Posterior predictive learning curve: {name}, {fit.data.n_participants} participants, "
        f"{predicted.shape[0]} draws",
        fontsize="medium",
    )
    ax.legend(loc="lower right", frameon=False, fontsize="small")
    ax.grid(alpha=0.3)
    return ax


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
