"""The :class:`Fit` object: an ArviZ posterior plus what is needed to use it."""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from . import _arviz, predictive
from . import design as design_mod
from .data import Dataset
from .models import get as get_model

META_KEY = "bayesrl_metadata"
#: Group holding a NUTS fit's last sampler state (plain arrays), for :meth:`Fit.resume`.
STATE_GROUP = "sampler_state"
#: Columns of :meth:`Fit.summary` that describe Monte Carlo chains, NaN for approximations.
_MCMC_COLUMNS = ["mcse_mean", "mcse_sd", "ess_bulk", "ess_tail", "r_hat"]


def build_idata(
    model, dataset: Dataset, samples: dict, stats: dict, log_lik: np.ndarray, metadata: dict, design=None, state=None
):
    """Assemble the ArviZ object of a fit.

    Parameters
    ----------
    model : bayesrl.Model
    dataset : Dataset
    samples : dict, each array shape (chain, draw, ...)
    stats : dict, each array shape (chain, draw)
    log_lik : numpy.ndarray, shape (chain, draw, participant, trial)
        Summed over the stages of a staged model.
    metadata : dict
        JSON-serialisable; stored in the posterior group's attributes.
    design : bayesrl.design.Design, optional
        Names the dims of regression coefficients, per-group scales and conditions.
    state : xarray.Dataset, optional
        The sampler's last state (:func:`bayesrl.inference.state_to_dataset`), stored as the
        group ``sampler_state``.

    Returns
    -------
    arviz.InferenceData or xarray.DataTree
    """
    coords = {"participant": dataset.participants, "trial": np.arange(dataset.max_trials)}
    dims = {}
    for name in model.param_names:
        for var in (name, f"{name}_z", f"{name}_raw"):
            dims[var] = ["participant"]
    extra_dims, extra_coords = design_mod.dims(design)
    dims.update(extra_dims)
    coords.update(extra_coords)
    trial_dims = ["participant", "trial"]
    arrays = dataset.arrays
    valid = arrays["valid"]
    if model.stages:  # one choice per stage: observed_data's choice gets a stage axis
        coords["stage"] = list(model.choice_columns)
        dims["choice"] = [*trial_dims, "stage"]
        valid = valid[..., None]
    observed = {"choice": np.where(valid, arrays["choice"], -1)}
    constant = {c: arrays[c] for c in model.columns}
    constant.update({c: v for c, v in arrays.items() if c.endswith("_condition") and c not in constant})
    constant.update(
        valid=arrays["valid"],
        block_start=arrays["block_start"],
        row_index=dataset.row_index,
        n_trials=dataset.n_trials,
    )
    for var in ("choice", *constant):
        dims.setdefault(var, trial_dims)
    dims["n_trials"] = ["participant"]
    idata = _arviz.from_dict(
        {
            "posterior": samples,
            "sample_stats": stats,
            "log_likelihood": {"choice": log_lik},
            "observed_data": observed,
            "constant_data": constant,
        },
        coords=coords,
        dims=dims,
    )
    _arviz.group(idata, "posterior")  # sanity: group exists
    idata["posterior"].attrs[META_KEY] = json.dumps(metadata)
    if state is not None:
        _arviz.set_group(idata, STATE_GROUP, state)
    return idata


@dataclass
class Diagnostics:
    """Convergence checks of a fit (see :meth:`Fit.diagnostics`)."""

    divergences: int
    num_draws: int
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    worst: dict = field(default_factory=dict)
    messages: list = field(default_factory=list)
    method: str = "nuts"
    #: For approximations: ``pareto_k`` of the importance ratios p/q and method-specific checks.
    approximation: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.messages

    def __str__(self) -> str:
        if self.method != "nuts":
            a = self.approximation
            lines = [
                f"approximation: {a.get('description', self.method)} ({self.num_draws} independent draws); "
                f"R-hat and ESS do not apply",
                f"Pareto k of the importance ratios p/q: {a.get('pareto_k', float('nan')):.2f} "
                f"(<= 0.7: the approximation is usable for means and intervals; higher: it is far from the posterior)",
            ]
            if "elbo_rel_change" in a:
                lines.append(
                    f"ELBO: relative change {a['elbo_rel_change']:.2g} over the last {a['elbo_window']} steps "
                    f"({'converged' if a['elbo_converged'] else 'NOT converged'})"
                )
            if "hessian_min_eigenvalue" in a:
                lines.append(
                    f"Hessian at the mode: smallest eigenvalue {a['hessian_min_eigenvalue']:.3g} "
                    f"({'positive definite' if a['hessian_positive_definite'] else 'NOT positive definite'})"
                )
            lines += [f"WARNING: {m}" for m in self.messages] or ["no problems found"]
            return "\n".join(lines)
        lines = [
            f"divergences: {self.divergences} of {self.num_draws} draws",
            f"max R-hat: {self.max_rhat:.3f} ({self.worst.get('rhat', '')})",
            f"min bulk ESS: {self.min_ess_bulk:.0f} ({self.worst.get('ess_bulk', '')})",
            f"min tail ESS: {self.min_ess_tail:.0f} ({self.worst.get('ess_tail', '')})",
        ]
        lines += [f"WARNING: {m}" for m in self.messages] or ["no problems found"]
        return "\n".join(lines)

    _repr_pretty_ = lambda self, p, cycle: p.text(str(self))  # noqa: E731


class Fit:
    """A fitted hierarchical model.

    Attributes
    ----------
    idata : arviz.InferenceData or xarray.DataTree
        Groups ``posterior`` (dims ``chain, draw[, participant]``), ``log_likelihood``
        (``choice``: ``chain, draw, participant, trial``; a staged model's stages summed),
        ``sample_stats``, ``observed_data`` (``choice``, 0-based, -1 where masked or padded;
        dims ``participant, trial, stage`` for a staged model) and ``constant_data``.
    model : bayesrl.Model or None
        None when loaded from a file of a custom model without passing ``model=``.
    data : Dataset
        The padded data the model was fitted to.
    metadata : dict
        Model, sampler settings, seed, data mapping, package versions.
    """

    def __init__(self, idata, model, data: Dataset, metadata: dict, design=None):
        self.idata = idata
        self.model = model
        self.data = data
        self.metadata = metadata
        self._design = design

    @property
    def design(self):
        """The study design (:class:`bayesrl.design.Design`: formulas, scales by group, conditions), or None."""
        if self._design is None and "design" in self.metadata:
            self._design = design_mod.from_metadata(self.metadata["design"], self.data)
        return self._design

    def condition_index(self) -> dict:
        """Each trial's condition per parameter with conditions, int arrays of shape (participant, trial)."""
        return {} if self.design is None else dict(self.design.condition_index)

    # --- views ---------------------------------------------------------------------------
    @property
    def method(self) -> str:
        """How the fit was made: ``"nuts"``, ``"svi"`` or ``"map"`` (Laplace approximation)."""
        return self.metadata["sampler"].get("method", "nuts")

    @property
    def param_names(self) -> list[str]:
        """The model's parameter names."""
        return list(self.metadata["model"]["params"])

    @property
    def posterior(self):
        """The posterior group as an ``xarray.Dataset``."""
        return _arviz.group(self.idata, "posterior")

    def group_var_names(self) -> list[str]:
        """Group-level variables: ``p_group``, ``p_mu``, ``p_sigma`` for each parameter.

        With a formula ``p_beta`` replaces ``p_group`` and ``p_mu``; with conditions ``p_cond`` and
        ``p_cond_sigma`` follow.
        """
        return design_mod.group_sites(self.param_names, self.design)

    def summary(self, var_names=None, hdi_prob: float = 0.94) -> pd.DataFrame:
        """Group-level posterior summary (ArviZ).

        Parameters
        ----------
        var_names : list of str, optional
            Defaults to :meth:`group_var_names`; pass e.g. ``["alpha"]`` for participants.
        hdi_prob : float, default 0.94

        Returns
        -------
        pandas.DataFrame
            One row per variable (and participant), columns ``mean, sd, hdi_3%, hdi_97%,
            mcse_mean, mcse_sd, ess_bulk, ess_tail, r_hat``. For an approximation (``svi``,
            ``map``) the last five are NaN (independent draws from a Gaussian: there is no
            chain to diagnose) and ``table.attrs["note"]`` says so.
        """
        approximate = self.method != "nuts"
        table = _arviz.summary(self.idata, var_names or self.group_var_names(), hdi_prob, quiet=approximate)
        table.attrs["method"] = self.method
        if approximate:
            table[_MCMC_COLUMNS] = np.nan
            table.attrs["note"] = (
                f"{self.method}: draws from an approximation of the posterior, not MCMC; R-hat and ESS do not "
                f"apply (see fit.diagnostics())"
            )
        return table

    def participants(self, hdi_prob: float = 0.94) -> pd.DataFrame:
        """One row per participant (original ids): posterior mean, sd and HDI of each parameter.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``participant``; columns ``<p>_mean, <p>_sd, <p>_hdi_lower, <p>_hdi_upper``
            per parameter (``<p>[<condition>]_mean``... for a parameter with conditions), then
            ``n_trials`` and ``n_masked``.
        """
        post = self.posterior
        cols = {}
        for p in self.param_names:
            var = post[p].transpose("chain", "draw", "participant", ...)
            extra = [d for d in var.dims if d not in ("chain", "draw", "participant")]
            labels = [(p, var)] if not extra else [(f"{p}[{v}]", var.sel({extra[0]: v})) for v in var[extra[0]].values]
            for label, values in labels:
                draws = np.asarray(values).reshape(-1, self.data.n_participants)
                lo, hi = hdi(draws, hdi_prob)
                cols.update(
                    {
                        f"{label}_mean": draws.mean(0),
                        f"{label}_sd": draws.std(0, ddof=1),
                        f"{label}_hdi_lower": lo,
                        f"{label}_hdi_upper": hi,
                    }
                )
        cols["n_trials"] = self.data.n_trials
        cols["n_masked"] = self.data.n_masked
        return pd.DataFrame(cols, index=pd.Index(self.data.participants, name="participant"))

    def diagnostics(self, rhat_max: float = 1.01, ess_min: float = 400.0, warn: bool = True) -> Diagnostics:
        """Divergences, worst R-hat and ESS over every sampled variable, with advice.

        Parameters
        ----------
        rhat_max : float, default 1.01
        ess_min : float, default 400
            Minimum bulk and tail ESS (Vehtari et al. 2021 recommend 100 per chain).
        warn : bool, default True
            Also issue a ``UserWarning`` for each problem.

        Returns
        -------
        Diagnostics
            For an approximation (``fit.method`` ``"svi"`` or ``"map"``): no R-hat or ESS, but
            the Pareto k of the importance ratios ``p(draw, data) / q(draw)`` (above 0.7 the
            approximation is far from the posterior), the ELBO's convergence (SVI) and whether
            the Hessian at the mode was positive definite (MAP).
        """
        if self.method != "nuts":
            return self._approximation_diagnostics(warn)
        stats = _arviz.group(self.idata, "sample_stats")
        div = int(np.asarray(stats["diverging"]).sum())
        n_draws = int(np.asarray(stats["diverging"]).size)
        names = [v for v in self.posterior.data_vars if not v.endswith("_group")]
        bulk, tail, rhat = _arviz.ess_rhat(self.idata, names)
        worst_r = max(rhat, key=lambda k: np.nan_to_num(rhat[k], nan=np.inf))
        worst_b = min(bulk, key=lambda k: np.nan_to_num(bulk[k], nan=-np.inf))
        worst_t = min(tail, key=lambda k: np.nan_to_num(tail[k], nan=-np.inf))
        msgs = []
        sampler = self.metadata["sampler"]
        centred = sorted(sampler.get("centered", ()))
        if div:
            chosen = "chosen from the data" if "centering_scores" in sampler else "as asked"
            msgs.append(
                f"{div} divergent transitions: the posterior has regions NUTS cannot explore; raise "
                f"target_accept (e.g. 0.95). "
                + (
                    f"This fit samples {centred} centred ({chosen}), which diverges where a group scale can be "
                    f"near 0 (few or uninformative trials per participant): try centered=[] (every parameter "
                    f"non-centred)."
                    if centred
                    else ""
                    if "centering_scores" in sampler
                    else 'centered="auto" chooses each parameter\'s parameterisation from the data.'
                )
            )
        n_chains = int(np.asarray(stats["diverging"]).shape[0])
        if n_chains < 2:
            msgs.append(
                "only one chain: R-hat cannot check convergence; run num_chains=4 (chains start from "
                "different points, so disagreement reveals a posterior the sampler has not explored)."
            )
        elif not rhat[worst_r] <= rhat_max:
            msgs.append(
                f"R-hat of {worst_r} is {rhat[worst_r]:.3f} (> {rhat_max}): chains disagree; run more "
                f"warm-up and draws (num_warmup, num_samples) and check the trace plot."
            )
        if not min(bulk[worst_b], tail[worst_t]) >= ess_min:
            which = worst_b if bulk[worst_b] <= tail[worst_t] else worst_t
            msgs.append(
                f"effective sample size of {which} is {min(bulk[worst_b], tail[worst_t]):.0f} (< {ess_min:g}): "
                f"draw more samples (num_samples) or chains before trusting intervals."
                + _centring_advice(which, self.param_names, centred, sampler.get("centering_scores"))
            )
        if warn:
            for m in msgs:
                warnings.warn(m, UserWarning, stacklevel=2)
        return Diagnostics(
            divergences=div,
            num_draws=n_draws,
            max_rhat=rhat[worst_r],
            min_ess_bulk=bulk[worst_b],
            min_ess_tail=tail[worst_t],
            worst={"rhat": worst_r, "ess_bulk": worst_b, "ess_tail": worst_t},
            messages=msgs,
        )

    def _approximation_diagnostics(self, warn: bool) -> Diagnostics:
        from .approx import approximation_warnings, pareto_k

        info = dict(self.metadata["sampler"])
        log_w = np.asarray(_arviz.group(self.idata, "sample_stats")["log_weight"]).reshape(-1)
        k = pareto_k(log_w)
        info["pareto_k"] = k
        info["description"] = (
            f"SVI, {info.get('guide')} guide" if self.method == "svi" else "MAP with a Laplace approximation"
        )
        msgs = approximation_warnings(self.method, info)
        if not k <= 0.7:
            msgs.append(
                f"Pareto k of the importance ratios p/q is {k:.2f} (> 0.7): the {self.method} approximation is far "
                f"from the posterior (usually too narrow, or a poor shape for the group-level sigma); treat its "
                f"intervals with caution and check key results with method='nuts'."
            )
        if warn:
            for m in msgs:
                warnings.warn(m, UserWarning, stacklevel=3)
        nan = float("nan")
        return Diagnostics(
            divergences=0,
            num_draws=int(log_w.size),
            max_rhat=nan,
            min_ess_bulk=nan,
            min_ess_tail=nan,
            messages=msgs,
            method=self.method,
            approximation=info,
        )

    # --- more draws -------------------------------------------------------------------------
    def resume(self, num_samples: int = 1000, *, seed: int | None = None, progress_bar: bool = True, check=True):
        """More NUTS draws, continuing every chain from its last state without warm-up.

        The adapted step size and mass matrix are kept. The state is stored in the fit (and in
        the saved file, group ``sampler_state``), so this works on a fit opened with
        :func:`load_fit`. With ``seed=None`` each chain continues its own random stream, so the
        result equals (up to floating point) a first run with the draws of both.

        Parameters
        ----------
        num_samples : int, default 1000
            New draws per chain.
        seed : int, optional
            A new random seed for the continuation (None: the chains' own streams).
        progress_bar : bool, default True
        check : bool, default True
            Run :meth:`diagnostics` on the result and warn about problems.

        Returns
        -------
        Fit
            A new fit with the old draws followed by the new ones along ``draw`` (posterior,
            log-likelihood, sample stats), the last state after them, and the metadata's
            ``sampler.num_samples`` the total per chain (``sampler.resumed`` lists each
            continuation). This fit is unchanged. A posterior predictive group is not carried
            over (it described the old draws).

        Raises
        ------
        ValueError
            For a fit not made by NUTS, one without a stored state (saved by an older
            version) or without its model (a custom model loaded without ``model=``).
        """
        from ._resume import resume

        return resume(self, int(num_samples), seed=seed, progress_bar=progress_bar, check=check)

    # --- predictive accuracy ----------------------------------------------------------------
    def log_likelihood(self, unit: str = "participant", *, by_stage: bool = False) -> np.ndarray:
        """Pointwise log-likelihood draws.

        Parameters
        ----------
        unit : {"participant", "trial"}
            Sum over each participant's trials, or keep valid trials separately.
        by_stage : bool, default False
            Keep the stages of a model with several choices per trial apart (a trailing
            ``stage`` axis, in the order of ``model.stages``), recomputed through the engine
            (:func:`bayesrl.engine.stage_log_likelihood`); it needs the fit's model. Without
            stages the axis has length 1. Default: each trial's stages summed, as stored.

        Returns
        -------
        numpy.ndarray
            Shape (chain, draw, participant), or (chain, draw, valid_trial) for ``"trial"``;
            with ``by_stage``, a trailing ``stage`` axis.
        """
        if unit not in ("participant", "trial"):
            raise ValueError(f"unit must be 'participant' or 'trial', got {unit!r}")
        if by_stage:
            from .inference import pointwise_log_likelihood

            model = predictive.require_model(self)
            post = self.posterior
            samples = {p: np.asarray(post[p].transpose("chain", "draw", "participant", ...)) for p in model.param_names}
            index = None if self.design is None else self.design.condition_index
            ll = pointwise_log_likelihood(model, samples, self.data.trials(model), condition_index=index, by_stage=True)
            return ll.sum(-2) if unit == "participant" else ll[:, :, self.data.arrays["valid"]]
        ll = np.asarray(
            _arviz.group(self.idata, "log_likelihood")["choice"].transpose("chain", "draw", "participant", "trial")
        )
        if unit == "participant":
            return ll.sum(-1)
        if unit == "trial":
            return ll[:, :, self.data.arrays["valid"]]
        raise ValueError(f"unit must be 'participant' or 'trial', got {unit!r}")

    def _unit_data(self, unit):
        ll = self.log_likelihood(unit)
        if unit == "trial":
            # A trial whose log-likelihood is the same in every draw (e.g. a first choice made
            # from equal initial values) has an exact LOO term; PSIS cannot fit its (flat)
            # tail: ArviZ 0.2x reports k = inf, ArviZ 1.x raises. Leave such trials out.
            flat = ll.reshape(-1, ll.shape[-1])
            ll = ll[..., np.ptp(flat, axis=0) > 0]
        dim = "participant" if unit == "participant" else "observation"
        coords = {dim: self.data.participants if unit == "participant" else np.arange(ll.shape[-1])}
        return _arviz.from_dict(
            {"posterior": {"_": np.zeros(ll.shape[:2])}, "log_likelihood": {"choice": ll}},
            coords=coords,
            dims={"choice": [dim]},
        )

    def loo(self, unit: str = "participant"):
        """PSIS-LOO (ArviZ) with the participant (default) or the trial as the unit left out.

        Trials within a learner are not exchangeable (each depends on the history), so
        trial-level LOO answers "predict one held-out choice given the rest", which is rarely
        the question; the participant is the default unit. At the trial level, trials whose
        log-likelihood does not depend on the parameters (identical in every draw, such as a
        first choice between equal initial values) are left out: their LOO term is exact
        (their log-likelihood) and PSIS cannot be applied to them.

        Parameters
        ----------
        unit : {"participant", "trial"}

        Returns
        -------
        ArviZ ELPD object
            ``elpd_loo`` (``elpd`` on ArviZ 1.x), ``se``, ``p_loo``, ``pareto_k`` per unit.
        """
        return _arviz.loo(self._unit_data(unit))

    def waic(self, unit: str = "participant") -> pd.Series:
        """WAIC (Watanabe 2010) with the participant (default) or the trial as the unit.

        Returns
        -------
        pandas.Series
            ``elpd_waic``, ``se``, ``p_waic``, ``waic`` (deviance scale, ``-2 * elpd_waic``), ``n``.
        """
        ll = self.log_likelihood(unit)
        ll = ll.reshape(-1, ll.shape[-1])
        lppd = logsumexp(ll, axis=0) - np.log(ll.shape[0])
        p_waic = ll.var(axis=0, ddof=1)
        elpd_i = lppd - p_waic
        n = elpd_i.size
        se = float(np.sqrt(n * elpd_i.var(ddof=1))) if n > 1 else float("nan")
        elpd = float(elpd_i.sum())
        return pd.Series({"elpd_waic": elpd, "se": se, "p_waic": float(p_waic.sum()), "waic": -2 * elpd, "n": n})

    # --- trial-wise regressors and posterior predictive checks -------------------------------
    def latents(self, at: str = "mean", *, num_draws: int | None = 200, seed: int = 0) -> pd.DataFrame:
        """Trial-wise latents for model-based analyses (fMRI/EEG regressors), one row per input row.

        Each participant's observed trials are replayed through the likelihood's own trial
        loop (:func:`bayesrl.engine.latents`, observed choices and outcomes fed in), emitting
        on every trial the state the choice was made from, the choice probabilities and the
        model's own latents (:attr:`bayesrl.Model.latents`).

        Parameters
        ----------
        at : {"mean", "draws"}
            ``"mean"``: at each participant's posterior-mean parameters on the natural
            (constrained) scale, e.g. the mean of the ``alpha`` draws in [0, 1] (not the
            transform of a mean on the unconstrained scale). ``"draws"``: every latent averaged
            over posterior draws (the posterior mean of the latent; latents are nonlinear in
            the parameters, so the two differ).
        num_draws : int or None, default 200
            With ``at="draws"``: draws used, ``num_draws // num_chains`` from each chain (a
            seeded random subset); None uses every draw.
        seed : int, default 0
            Seed of the draw subset.

        Returns
        -------
        pandas.DataFrame
            One row per row of the fitted table, in the table's row order (row ``i`` is row ``i``
            of the input, so ``frame.index = df.index`` aligns it to your DataFrame). Columns:

            - ``participant`` (original id), ``trial`` (position among the participant's trials,
              0-based, the ``trial`` coordinate of ``fit.idata``), ``block`` (blocks started
              before this trial, 0 for the first), ``row`` (0-based position in the input
              table), ``masked`` (True where the choice is missing), ``choice`` (the observed
              choice in the data's coding, ``<NA>`` where masked);
            - the state the choice was made from (after a block-start reset, before learning),
              one column per field, vector fields per option in the data's choice coding
              (``q_1``, ``q_2`` for choices coded 1..2; fields that are not one per option, such
              as the six stimulus values of ``pst_Q``, are numbered from 1);
            - ``prob_<option>``: the choice probabilities, and ``prob_chosen``: the probability
              of the observed choice (NaN on masked trials);
            - for a model with several choices per trial (``model.stages``): one observed
              choice column per stage (``level1_choice``...) instead of ``choice``, and
              ``prob_<column>_<option>`` and ``prob_chosen_<column>`` per stage (each stage's
              probabilities over the options offered on that trial, 0 for the others);
            - the model's latents, NaN on masked trials: by default ``chosen_value`` and
              ``prediction_error`` (``outcome - q[choice]``) for models with a value vector
              ``q``; models define their own (``associability`` and ``learning_rate`` for
              ``rescorla_wagner_pearce_hall``, ``kalman_gain`` and ``chosen_variance`` for
              the Kalman filters, reward and punishment prediction errors for ``bandit4arm_*``).

        Raises
        ------
        ValueError
            For an unknown ``at``, a bad ``num_draws``, or a fit without its model (a custom
            model loaded from a file without ``model=``).

        Examples
        --------
        >>> lat = fit.latents()  # doctest: +SKIP
        >>> lat.loc[~lat.masked, ["participant", "trial", "prediction_error"]]  # doctest: +SKIP
        """
        return predictive.latent_table(self, at, num_draws=num_draws, seed=seed)

    def posterior_predictive(
        self, mode: str = "one_step", *, num_draws: int | None = 200, seed: int = 0, task=None, condition=None
    ):
        """Posterior predictive choices, stored in ``fit.idata``'s ``posterior_predictive`` group.

        Both modes run the model's own step functions: ``"one_step"`` the likelihood's loop
        (:func:`bayesrl.engine.logits`) and ``"generative"`` the simulator
        (:func:`bayesrl.simulate.simulate_batch`).

        Parameters
        ----------
        mode : {"one_step", "generative"}
            ``"one_step"``: one-step-ahead predictions, each trial's choice probabilities given
            the participant's own observed choices and outcomes so far, and a choice drawn from
            them. ``"generative"``: whole sessions simulated from each draw, the model's choices
            feeding its own learning; feedback comes from ``task``.
        num_draws : int or None, default 200
            Posterior draws used, ``num_draws // num_chains`` from each chain (at least one; a
            seeded random subset, the same draw indices in every chain); None uses every draw.
        seed : int, default 0
            Seed of the draw subset and of the simulated choices (same seed, same result).
        task : bayesrl.tasks.Task, optional
            The environment of a generative simulation, e.g. ``brl.tasks.bandit([0.7, 0.3],
            n_trials=100)``; every participant plays its ``n_trials`` trials. Without a task the
            observed schedule is replayed, which is only possible when no column the model
            reads depends on the choice (every column is in ``model.inputs``): for a bandit the
            outcome an unchosen arm would have paid was never observed, so a task is required.
            Not used by ``"one_step"``.
        condition : level, sequence of levels, or dict, optional
            Generative simulation with a task of a fit with ``conditions=``: the condition of
            the simulated trials, one level for every trial (``"reward"``), one level per trial
            (a sequence of ``task.n_trials``), or ``{column: ...}`` when parameters use
            different condition columns. Each participant then plays with their own value for
            that condition.

        Returns
        -------
        xarray.Dataset
            The ``posterior_predictive`` group (it replaces one already there):

            - ``choice`` : int, dims (chain, draw, participant, trial): simulated choices,
              0-based as ``observed_data``'s ``choice``, -1 on trials without a choice
              (masked or padded, and, one step ahead, wherever the data has none);
            - ``choice_prob`` : float, dims (chain, draw, participant, trial, option): the
              probabilities each simulated choice was drawn from (NaN where there is none);
            - generative with a task: the model's columns the task produced (e.g.
              ``outcome``), dims (chain, draw, participant, trial).

            For a model with several choices per trial, ``choice`` and ``choice_prob`` have a
            ``stage`` dimension before ``option`` (coordinates: the stages' columns); one step
            ahead, a stage whose options come in groups is predicted within the group the
            participant was offered.

            ``trial`` is the data's trial axis, or ``0..task.n_trials-1`` with a task; ``draw``
            holds the posterior's draw indices. The attributes say the mode, number of draws
            and seed. :meth:`save` writes the group with the rest of the fit.

        Raises
        ------
        ValueError
            For an unknown mode, a bad ``num_draws``, a fit without its model, a generative
            simulation without a task of a model whose columns depend on the choice, a
            task whose options or fields do not match the model, or, for a fit with
            conditions, a task without ``condition=`` or an unknown level in it.

        Examples
        --------
        >>> pp = fit.posterior_predictive("one_step", num_draws=100)  # doctest: +SKIP
        >>> pp["choice_prob"].mean(("chain", "draw"))  # doctest: +SKIP
        """
        if mode == "one_step":
            if task is not None or condition is not None:
                raise ValueError(
                    "task= and condition= are for mode='generative'; one-step predictions replay the observed trials"
                )
            group = predictive.one_step(self, num_draws=num_draws, seed=seed)
        elif mode == "generative":
            group = predictive.generative(self, num_draws=num_draws, seed=seed, task=task, condition=condition)
        else:
            raise ValueError(f"mode must be 'one_step' or 'generative', got {mode!r}")
        _arviz.set_group(self.idata, "posterior_predictive", group)
        return group

    # --- group differences and covariates ----------------------------------------------------
    def coefficients(self, param: str | None = None, hdi_prob: float = 0.9) -> pd.DataFrame:
        """Posterior of the regression coefficients and condition offsets, on the unconstrained scale.

        See :func:`bayesrl.effects.coefficients`.
        """
        from .effects import coefficients

        return coefficients(self, param, hdi_prob)

    def group_means(self, param: str, by: str, *, at=None, hdi_prob: float = 0.9) -> pd.DataFrame:
        """Natural-scale group location at each level of ``by``; see :func:`bayesrl.effects.group_means`."""
        from .effects import group_means

        return group_means(self, param, by, at=at, hdi_prob=hdi_prob)

    def contrast(self, param: str, by: str, a, b, *, at=None, hdi_prob: float = 0.9):
        """Posterior difference of derived group locations on the natural scale.

        ``fit.contrast("alpha", "group", "patient", "control")``; see :func:`bayesrl.effects.contrast`.
        """
        from .effects import contrast

        return contrast(self, param, by, a, b, at=at, hdi_prob=hdi_prob)

    # --- persistence ------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the fit to a netCDF file (no pickle), atomically.

        The file holds the posterior, log-likelihood, sample stats, the data (observed and
        constant groups), the posterior predictive group when :meth:`posterior_predictive` made
        one, and JSON metadata (model, settings, seed, versions).
        """
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".nc.tmp", dir=folder)
        os.close(fd)
        try:
            _arviz.to_netcdf(self.idata, tmp)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it owner-only; give it normal permissions
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    def __repr__(self) -> str:
        m = self.metadata
        return (
            f"<bayesrl.Fit {m['model']['name']}: {self.data.n_participants} participants, "
            f"{int(self.data.arrays['valid'].sum())} trials, {m['sampler'].get('method', 'nuts')} "
            f"{m['sampler'].get('num_chains')} x {m['sampler'].get('num_samples')} draws>"
        )


def hdi(draws: np.ndarray, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Highest-density interval of each column.

    Parameters
    ----------
    draws : numpy.ndarray, shape (draw, k)
    prob : float

    Returns
    -------
    lower, upper : numpy.ndarray, shape (k,)
    """
    s = np.sort(draws, axis=0)
    n = s.shape[0]
    width = int(np.floor(prob * n))
    if width < 1:
        return s[0], s[-1]
    spans = s[width:] - s[: n - width]
    best = np.argmin(spans, axis=0)
    cols = np.arange(s.shape[1])
    return s[best, cols], s[best + width, cols]


def dataset_from_idata(idata, metadata: dict) -> Dataset:
    """Rebuild the padded :class:`Dataset` stored in a fit's ArviZ object."""
    obs = _arviz.group(idata, "observed_data")
    const = _arviz.group(idata, "constant_data")
    choice = np.asarray(obs["choice"])
    arrays = {"choice": np.where(choice >= 0, choice, 0).astype(np.int32)}
    for name in const.data_vars:
        if name not in ("row_index", "n_trials"):
            arrays[name] = np.asarray(const[name])
    for name in ("valid", "block_start"):
        arrays[name] = arrays[name].astype(bool)
    d = metadata["data"]
    return Dataset(
        participants=np.asarray(obs["participant"].values),
        arrays=arrays,
        n_trials=np.asarray(const["n_trials"]),
        row_index=np.asarray(const["row_index"]),
        choice_base=d["choice_base"],
        n_options=d["n_options"],
        column_map=d["column_map"],
    )


def load_fit(path, model=None) -> Fit:
    """Open a fit saved with :meth:`Fit.save`.

    Parameters
    ----------
    path : path-like
    model : bayesrl.Model, optional
        Needed for a custom model (its functions cannot be stored safely); library models
        are rebuilt from the stored name and options.

    Returns
    -------
    Fit
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such fit file: {path}")
    try:
        idata = _arviz.from_netcdf(path)
    except Exception as err:  # h5py OSError on 0.2x, xarray ValueError on 1.x
        raise ValueError(f"{path} is not a readable netCDF fit file ({type(err).__name__}: {err})") from err
    if "posterior" not in _arviz.groups(idata):
        raise ValueError(f"{path} is a netCDF file but not a bayesrl fit (no posterior group)")
    post = _arviz.group(idata, "posterior")
    if META_KEY not in post.attrs:
        raise ValueError(f"{path} is a netCDF file but not a bayesrl fit (no {META_KEY!r} attribute)")
    metadata = json.loads(post.attrs[META_KEY])
    info = metadata["model"]
    if model is None and info.get("library"):
        model = get_model(info["name"])(**info["options"])
    if model is not None and list(model.param_names) != list(info["params"]):
        raise ValueError(
            f"model {model.name!r} has parameters {list(model.param_names)} but the file was fitted with "
            f"{info['name']!r} {list(info['params'])}"
        )
    return Fit(idata, model, dataset_from_idata(idata, metadata), metadata)


def _centring_advice(variable: str, param_names, centred, scores=None) -> str:
    """Advice when the slowest-mixing variable is a group parameter of a non-centred parameter.

    ``scores``: the fit's ``centering_scores`` when the parameterisation was chosen from the data.
    """
    base, _, level = variable.rpartition("_")
    if level not in ("mu", "sigma") or base not in param_names or base in centred:
        return ""
    if scores is not None and base in scores:  # the choice was made and kept it non-centred
        return (
            f" {variable} is a group parameter of {base!r}, kept non-centred by the choice from the data (score "
            f"{scores[base]:.2f}, centred above 2/3); centered=[{base!r}] tries the centred form."
        )
    return (
        f" {variable} is a group parameter of {base!r}, sampled non-centred: with many informative trials per "
        f"participant the non-centred form moves the group slowly (each participant's offset must move with "
        f'it); centered="auto" centres {base!r} when the data support it (2-3x the min-ESS per second at '
        f"200 participants x 200 trials, benchmarks/README.md)."
    )
