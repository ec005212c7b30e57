"""Side-by-side fit benchmark: Stan (hBayesDM's program), a hand-written NumPyro model, and bayesrl.

Every (peer, workload, repetition) runs in a fresh Python process with an empty private JAX
compilation cache, so the first call includes compilation and the process's peak resident
memory is that peer's. In each process the fit is run twice: the "first" call (with
compilation; for Stan the C++ build is timed separately and not included) and the "second"
call (compiled; a same-shaped refit). Figures per call: wall time, min bulk-ESS and min
tail-ESS over every parameter (group and participant level, on the natural and unconstrained
scales), min-ESS per second, divergences, mean leapfrog steps per iteration; per process: peak
memory. The table gives medians over ``--repeats`` repetitions with [min, max].

Peers
-----
stan     hBayesDM's Stan program of the workload's model (fetched with hBayesDM's sdist at run
         time, see ``stan_agreement.py``), PyStan 3; skipped with a message when ``stan`` is not
         importable.
numpyro  The model a user writes from NumPyro's documentation: non-centred hierarchical priors
         (hBayesDM's), ``lax.scan`` over trials and ``vmap`` over participants, masked padding.
         Written for ``bandit2arm_delta``, ``bandit4arm_4par`` and ``ts_par4``
         (``NUMPYRO_MODELS``), each checked against bayesrl's likelihood before timing.
bayesrl  ``brl.fit(brl.models.get(model)(), table)``: its default, which since 2026-12-07 (night)
         chooses each parameter's parameterisation as ``centered="auto"`` does from 10,000
         observed choices on (200 x 200 and up) and samples non-centred below (the example).
bayesrl_auto
         The same with ``centered="auto"``: each parameter centred or not as the data call for
         (the same posterior; the choice's own time is in the wall time).
bayesrl_nc
         The same with ``centered=[]``: every parameter non-centred, as hBayesDM's programs and
         the hand-written model (bayesrl's default before 2026-12-07, night).

Workloads (model): ``example``, hBayesDM's 2-armed bandit example (20 x 100) when the sdist can
be fetched, else the example shipped with bayesrl (same shape); ``PxT``, synthetic P x T data
(200x200, and 1000x200 with ``--large``) simulated by bayesrl from hBayesDM-like group values
(all ``bandit2arm_delta``); ``bandit4arm``, hBayesDM's 4-armed gain/loss example (10 x 200,
``bandit4arm_4par``; needs the sdist); ``twostep``, hBayesDM's two-step example (11 x 200,
``ts_par4``; needs the sdist).

Ratios of median min-ESS/s come with a 95% bootstrap interval (``ratio_interval``) where both
peers ran at least 3 repetitions: on small posteriors the min ESS varies over seeds more than
the peers differ, and the interval says whether a ratio's distance from 1 is more than that.

    python benchmarks/bench_peers.py --out benchmarks/results            # full (hours on 2 cores)
    python benchmarks/bench_peers.py --out /tmp/quick --quick            # check the script runs
    python benchmarks/bench_peers.py --from-runs a_runs.csv b_runs.csv --name pooled  # pool runs

Run it in an environment with ``pip install -e '.[bench]'`` (PyStan, numba) for all peers.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, markdown  # noqa: E402

HERE = Path(__file__).resolve().parent
PEERS = ("stan", "numpyro", "bayesrl")  # and "bayesrl_auto", "bayesrl_nc", on request
#: hBayesDM model fitted on each named workload (synthetic ``PxT`` workloads: bandit2arm_delta)
WORKLOAD_MODELS = {"example": "bandit2arm_delta", "bandit4arm": "bandit4arm_4par", "twostep": "ts_par4"}
#: each model's participant-level parameters, as hBayesDM's Stan program names them
STAN_PARAMS = {
    "bandit2arm_delta": ("A", "tau"),
    "bandit4arm_4par": ("Arew", "Apun", "R", "P"),
    "ts_par4": ("a", "beta", "pi", "w"),
}
#: hBayesDM's example file of each workload that reads one (no fallback: that file or nothing)
HBAYESDM_EXAMPLES = {"bandit4arm": "bandit4arm_exampleData.txt", "twostep": "ts_exampleData.txt"}


def workload_model(name: str) -> str:
    return WORKLOAD_MODELS.get(name, "bandit2arm_delta")


# --------------------------------------------------------------------------------------------
# workloads: one hBayesDM-format table each (subjID, choice 1/2, outcome)


def workload_table(name: str, hbayesdm_dir: str | None, data_seed: int = 7) -> pd.DataFrame:
    """The workload's table; ``data_seed`` draws a synthetic ``PxT`` data set (hBayesDM's files are fixed)."""
    import bayesrl as brl

    if name == "example":
        try:
            sys.path.insert(0, str(HERE))
            from stan_agreement import hbayesdm_source

            package = hbayesdm_source(hbayesdm_dir)
            return pd.read_csv(package / "common" / "extdata" / "bandit2arm_exampleData.txt", sep="\t")
        except Exception as err:  # no network / no pip: our own simulated example of the same shape
            print(f"hBayesDM's example not available ({err}); using bayesrl's bandit2arm example", flush=True)
            df = brl.datasets.load("bandit2arm")
            return df.rename(columns={"participant": "subjID"})[["subjID", "choice", "outcome"]]
    if name in HBAYESDM_EXAMPLES:
        sys.path.insert(0, str(HERE))
        from stan_agreement import hbayesdm_source

        return pd.read_csv(hbayesdm_source(hbayesdm_dir) / "common" / "extdata" / HBAYESDM_EXAMPLES[name], sep="\t")
    n_p, n_t = (int(x) for x in name.split("x"))
    task = brl.tasks.bandit(brl.tasks.reversal_schedule([0.7, 0.3], n_trials=n_t, every=50), reward=1.0, no_reward=0.0)
    group = {"A_mu": -0.5, "A_sigma": 0.5, "tau_mu": -0.4, "tau_sigma": 0.4}
    df = brl.simulate(brl.models.bandit2arm_delta(), group=group, n_participants=n_p, task=task, seed=data_seed)
    return df.rename(columns={"participant": "subjID"})[["subjID", "choice", "outcome"]]


def padded(table: pd.DataFrame, columns=("outcome",), choice="choice"):
    """(``choice`` from 0, *columns, valid), each shape (participant, trial), participants in file order."""
    groups = [g for _, g in table.groupby("subjID", sort=False)]
    n, t = len(groups), max(len(g) for g in groups)
    choice_, valid = np.zeros((n, t), int), np.zeros((n, t), bool)
    values = [np.zeros((n, t)) for _ in columns]
    for i, g in enumerate(groups):
        choice_[i, : len(g)] = g[choice].to_numpy() - 1
        for out, column in zip(values, columns, strict=True):
            out[i, : len(g)] = g[column].to_numpy()
        valid[i, : len(g)] = True
    return (choice_, *values, valid)


# --------------------------------------------------------------------------------------------
# the hand-written NumPyro baseline


def phi_approx(x):
    """Stan's ``Phi_approx``, the link hBayesDM's programs use."""
    import jax

    return jax.nn.sigmoid(0.07056 * x**3 + 1.5976 * x)


def non_centred(names, n):
    """hBayesDM's group priors, non-centred: ``mu_pr ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``, ``<name>_pr ~ N(0, 1)``.

    Returns each parameter's participant values on the unconstrained scale, ``mu_pr[i] + sigma[i]
    * <name>_pr``, shape (participant,) each (site names as in hBayesDM's Stan programs).
    """
    import numpyro
    import numpyro.distributions as dist

    k = len(names)
    mu_pr = numpyro.sample("mu_pr", dist.Normal(0.0, 1.0).expand([k]).to_event(1))
    sigma = numpyro.sample("sigma", dist.HalfNormal(0.2).expand([k]).to_event(1))
    with numpyro.plate("participant", n):
        raw = [numpyro.sample(f"{name}_pr", dist.Normal(0.0, 1.0)) for name in names]
    return [mu_pr[i] + sigma[i] * raw[i] for i in range(k)]


def delta_logits(a, tau, choice, outcome):
    """One participant's logits under hBayesDM's bandit2arm_delta, written as a NumPyro user would."""
    import jax
    import jax.numpy as jnp

    def step(ev, x):
        c, o = x
        logits = tau * ev
        ev = ev.at[c].add(a * (o - ev[c]))
        return ev, logits

    _, logits = jax.lax.scan(step, jnp.zeros(2), (choice, outcome))
    return logits


def numpyro_model(choice, outcome, valid):
    """hBayesDM's bandit2arm_delta written as a NumPyro user would: non-centred, scan + vmap."""
    import jax
    import numpyro
    import numpyro.distributions as dist

    n = choice.shape[0]
    a_un, tau_un = non_centred(("A", "tau"), n)
    a = numpyro.deterministic("A", phi_approx(a_un))
    tau = numpyro.deterministic("tau", phi_approx(tau_un) * 5.0)
    logits = jax.vmap(delta_logits)(a, tau, choice, outcome)
    with numpyro.plate("participant_", n, dim=-2), numpyro.plate("trial", choice.shape[1], dim=-1):
        numpyro.sample("choice", dist.Categorical(logits=logits).mask(valid), obs=choice)


def gain_loss_logits(arew, apun, r, p, choice, gain, loss):
    """One participant's logits under hBayesDM's bandit4arm_4par, written as a NumPyro user would."""
    import jax
    import jax.numpy as jnp

    def step(carry, x):
        qr, qp = carry
        c, gain_t, loss_t = x
        logits = qr + qp
        pe_r = r * gain_t - qr[c]
        pe_p = p * loss_t - qp[c]
        qr_new = ((1.0 - arew) * qr).at[c].set(qr[c] + arew * pe_r)  # unchosen arms: fictive update to 0
        qp_new = ((1.0 - apun) * qp).at[c].set(qp[c] + apun * pe_p)
        return (qr_new, qp_new), logits

    _, logits = jax.lax.scan(step, (jnp.zeros(4), jnp.zeros(4)), (choice, gain, -jnp.abs(loss)))
    return logits


def numpyro_model_4arm(choice, gain, loss, valid):
    """hBayesDM's bandit4arm_4par written as a NumPyro user would: non-centred, scan + vmap."""
    import jax
    import numpyro
    import numpyro.distributions as dist

    n = choice.shape[0]
    arew_un, apun_un, r_un, p_un = non_centred(("Arew", "Apun", "R", "P"), n)
    arew = numpyro.deterministic("Arew", phi_approx(arew_un))
    apun = numpyro.deterministic("Apun", phi_approx(apun_un))
    r = numpyro.deterministic("R", phi_approx(r_un) * 30.0)
    p = numpyro.deterministic("P", phi_approx(p_un) * 30.0)
    logits = jax.vmap(gain_loss_logits)(arew, apun, r, p, choice, gain, loss)
    with numpyro.plate("participant_", n, dim=-2), numpyro.plate("trial", choice.shape[1], dim=-1):
        numpyro.sample("choice", dist.Categorical(logits=logits).mask(valid), obs=choice)


TRANS_PROB = 0.7  # hBayesDM's default ``trans_prob`` of the two-step models


def twostep_logits(a, beta, pi, w, level1, level2, reward):
    """One participant's logits under hBayesDM's ts_par4, written from its Stan program as a NumPyro user would.

    ``level1`` 0/1; ``level2`` hBayesDM's 1-4 (1-2 the options of the state commonly reached from
    0; padding 0). Returns the logit of first-stage option 1 and of the reached state's second
    option, shape (trial,) each.
    """
    import jax
    import jax.numpy as jnp

    def step(carry, x):
        v, previous = carry  # v: model-free values, 2 first-stage then 2 x 2 second-stage options
        c1, c2, r = x
        best = jnp.stack([jnp.maximum(v[2], v[3]), jnp.maximum(v[4], v[5])])
        v_mb = jnp.stack([TRANS_PROB * best[0] + (1 - TRANS_PROB) * best[1],
                          (1 - TRANS_PROB) * best[0] + TRANS_PROB * best[1]])  # fmt: skip
        v_hybrid = w * v_mb + (1 - w) * v[:2]
        stay = jnp.where(previous < 0, 0.0, pi * (2 * previous - 1))
        logit1 = beta * (v_hybrid[1] - v_hybrid[0]) + stay
        state = c2 // 2
        logit2 = beta * (v[3 + 2 * state] - v[2 + 2 * state])
        v = v.at[c1].add(a * (v[2 + c2] - v[c1]))
        v = v.at[2 + c2].add(a * (r - v[2 + c2]))
        v = v.at[c1].add(a * (r - v[2 + c2]))
        return (v, c1), (logit1, logit2)

    level2 = jnp.clip(jnp.asarray(level2).astype(jnp.int32) - 1, 0, 3)
    _, (logit1, logit2) = jax.lax.scan(step, (jnp.zeros(6), jnp.asarray(-1)), (level1, level2, reward))
    return logit1, logit2


def numpyro_model_twostep(level1, level2, reward, valid):
    """hBayesDM's ts_par4 written as a NumPyro user would: non-centred, scan + vmap, two Bernoulli choices."""
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    n = level1.shape[0]
    a_un, beta_un, pi_un, w_un = non_centred(("a", "beta", "pi", "w"), n)
    a = numpyro.deterministic("a", phi_approx(a_un))
    beta = numpyro.deterministic("beta", jnp.exp(beta_un))
    pi = numpyro.deterministic("pi", phi_approx(pi_un) * 5.0)
    w = numpyro.deterministic("w", phi_approx(w_un))
    logit1, logit2 = jax.vmap(twostep_logits)(a, beta, pi, w, level1, level2, reward)
    with numpyro.plate("participant_", n, dim=-2), numpyro.plate("trial", level1.shape[1], dim=-1):
        numpyro.sample("level1", dist.Bernoulli(logits=logit1).mask(valid), obs=level1)
        numpyro.sample("level2", dist.Bernoulli(logits=logit2).mask(valid), obs=(level2 + 1) % 2)


def _chosen_log_probs(logits_fn):
    """``(values, choice, *columns) -> log softmax(logits)[choice]`` for a one-choice hand-written model."""

    def log_probs(values, choice, *columns):
        import jax

        logp = jax.nn.log_softmax(jax.vmap(logits_fn)(*values, choice, *columns))
        return np.take_along_axis(np.asarray(logp), choice[..., None], axis=-1)[..., 0]

    return log_probs


def _twostep_log_probs(values, level1, level2, reward):
    import jax

    logit1, logit2 = jax.vmap(twostep_logits)(*values, level1, level2, reward)
    sign1, sign2 = 2 * level1 - 1, 2 * ((level2 + 1) % 2) - 1  # Bernoulli: log P(y) = log sigmoid(+-logit)
    return np.asarray(jax.nn.log_sigmoid(sign1 * logit1) + jax.nn.log_sigmoid(sign2 * logit2))


class HandWritten(NamedTuple):
    """A hand-written NumPyro model, the table columns it reads and how to check it against bayesrl."""

    model: Callable  #: the NumPyro model, arguments ``padded(table, columns, choice)``
    choice: str  #: the choice column (its values from 1)
    columns: tuple  #: the other columns it reads, in argument order
    log_probs: Callable  #: ``(parameter values, *padded arrays but valid) -> (participant, trial)``
    ranges: dict  #: parameter -> (low, high) for the check's random participants


#: each model's hand-written NumPyro baseline (the ``numpyro`` peer)
NUMPYRO_MODELS = {
    "bandit2arm_delta": HandWritten(numpyro_model, "choice", ("outcome",), _chosen_log_probs(delta_logits),
                                    {"A": (0.1, 0.9), "tau": (0.5, 4.5)}),
    "bandit4arm_4par": HandWritten(numpyro_model_4arm, "choice", ("gain", "loss"), _chosen_log_probs(gain_loss_logits),
                                   {"Arew": (0.1, 0.9), "Apun": (0.1, 0.9), "R": (1, 20), "P": (1, 20)}),
    "ts_par4": HandWritten(numpyro_model_twostep, "level1_choice", ("level2_choice", "reward"), _twostep_log_probs,
                           {"a": (0.1, 0.9), "beta": (0.5, 8), "pi": (0, 3), "w": (0.1, 0.9)}),
}  # fmt: skip


def check_hand_written(model_name: str, table: pd.DataFrame, seed: int = 0) -> float:
    """Max difference of the hand-written model's per-trial log-probabilities from bayesrl's, on ``table``.

    Random participant parameters (``HandWritten.ranges``); every valid trial, all of a trial's
    choices. Raises when they differ by more than 1e-4 (float32), so a wrong hand-written
    baseline never reaches a table.
    """
    import jax.numpy as jnp

    import bayesrl as brl
    from bayesrl import data as data_mod
    from bayesrl import engine

    hand = NUMPYRO_MODELS[model_name]
    model = brl.models.get(model_name)()
    *arrays, valid = padded(table, hand.columns, hand.choice)
    rng = np.random.default_rng(seed)
    values = {k: jnp.asarray(rng.uniform(*hand.ranges[k], len(valid))) for k in model.param_names}
    ours = engine.log_likelihood(model, model.make_params(values), data_mod.prepare(table, model).trials(model))
    theirs = hand.log_probs([values[k] for k in model.param_names], *arrays)
    diff = float(np.abs(np.asarray(ours)[valid] - theirs[valid]).max())
    if not diff <= 1e-4:
        raise AssertionError(f"hand-written {model_name} differs from bayesrl's likelihood by {diff}")
    return diff


# --------------------------------------------------------------------------------------------
# one process: two calls of one peer on one workload


def ess_over_scalars(draws: dict) -> tuple[np.ndarray, np.ndarray]:
    """Bulk and tail ESS of every scalar of every variable; draws are (chain, draw, ...)."""
    from bayesrl import _arviz

    columns = []
    for x in draws.values():
        x = np.asarray(x, dtype=float)
        flat = x.reshape(x.shape[0], x.shape[1], -1)
        columns += [flat[:, :, j] for j in range(flat.shape[2]) if np.ptp(flat[:, :, j]) > 0]
    if not columns:
        return np.array([]), np.array([])
    return _arviz.ess_columns(np.stack(columns, axis=-1))


def call_bayesrl(table, settings, seed, model="bandit2arm_delta", centered=None):
    import bayesrl as brl

    t0 = time.perf_counter()
    fit = brl.fit(
        brl.models.get(model)(), table, seed=seed, progress_bar=False, check=False, centered=centered, **settings
    )
    wall = time.perf_counter() - t0
    post = fit.posterior
    draws = {k: np.asarray(post[k]) for k in post.data_vars}
    stats = fit.idata.sample_stats if hasattr(fit.idata, "sample_stats") else fit.idata["sample_stats"]
    return wall, draws, int(np.asarray(stats["diverging"]).sum()), float(np.asarray(stats["n_steps"]).mean())


def call_numpyro(table, settings, seed, model="bandit2arm_delta"):
    import jax
    from numpyro.infer import MCMC, NUTS

    hand = NUMPYRO_MODELS[model]
    arrays = padded(table, hand.columns, hand.choice)
    t0 = time.perf_counter()
    mcmc = MCMC(
        NUTS(hand.model),
        num_warmup=settings["num_warmup"],
        num_samples=settings["num_samples"],
        num_chains=settings["num_chains"],
        chain_method="parallel",
        progress_bar=False,
    )
    mcmc.run(jax.random.PRNGKey(seed), *arrays, extra_fields=("diverging", "num_steps"))
    draws = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    wall = time.perf_counter() - t0
    extra = mcmc.get_extra_fields(group_by_chain=True)
    return wall, draws, int(np.asarray(extra["diverging"]).sum()), float(np.asarray(extra["num_steps"]).mean())


def call_stan(table, settings, seed, hbayesdm_dir, model="bandit2arm_delta", built={}):  # noqa: B006
    """One Stan fit of hBayesDM's program.

    The C++ model is built on the first call (timed: ``built["build_s"]``, in a private httpstan
    cache so it really compiles); each call builds the posterior again with its own seed, since
    httpstan would otherwise return its cached fit of identical arguments.
    """
    import stan

    sys.path.insert(0, str(HERE))
    from stan_agreement import _patient_stanc, hbayesdm_source, modern_stan, stan_data

    _patient_stanc()
    code = modern_stan((hbayesdm_source(hbayesdm_dir) / "common" / "stan_files" / f"{model}.stan").read_text())
    t0 = time.perf_counter()
    posterior = stan.build(code, data=stan_data(model, table), random_seed=seed)
    built.setdefault("build_s", time.perf_counter() - t0)
    chains = settings["num_chains"]
    t0 = time.perf_counter()
    fit = posterior.sample(num_chains=chains, num_warmup=settings["num_warmup"], num_samples=settings["num_samples"])
    wall = time.perf_counter() - t0
    draws = {}
    params = STAN_PARAMS[model]
    for name in ("mu_pr", "sigma", *(f"{p}_pr" for p in params), *params):
        x = np.asarray(fit[name])  # (dims..., draws * chains), chain index fastest
        x = x.reshape(x.shape[:-1] + (-1, chains))
        draws[name] = np.moveaxis(np.moveaxis(x, -1, 0), -1, 1)  # (chain, draw, dims...)
    div = int(np.asarray(fit["divergent__"]).sum())
    steps = float(np.asarray(fit["n_leapfrog__"]).mean())
    return wall, draws, div, steps


def worker(args) -> None:
    """Run inside a fresh process: print one JSON line per call."""
    os.environ["BAYESRL_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-peers-cache-")
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="bench-peers-httpstan-")  # Stan compiles afresh
    if args.peer != "stan":
        import jax

        import bayesrl  # noqa: F401  (host devices for parallel chains, before JAX starts)

        jax.config.update("jax_enable_x64", args.x64)
        if args.peer == "numpyro":  # the same persistent cache as bayesrl gets: a fair second call
            jax.config.update("jax_compilation_cache_dir", os.environ["BAYESRL_CACHE_DIR"])
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    table = pd.read_csv(args.table)
    settings = json.loads(args.settings)
    for k, call in enumerate(("first", "second")[: args.calls]):
        if args.peer == "stan":
            wall, draws, div, steps = call_stan(table, settings, args.seed + 1000 * k, args.hbayesdm, args.model)
        elif args.peer == "numpyro":
            wall, draws, div, steps = call_numpyro(table, settings, args.seed, args.model)
        else:
            centered = {"bayesrl_auto": "auto", "bayesrl_nc": ()}.get(args.peer)  # "bayesrl": the default
            wall, draws, div, steps = call_bayesrl(table, settings, args.seed, args.model, centered)
        all_bulk, all_tail = ess_over_scalars(draws)
        bulk, tail = float(all_bulk.min()), float(all_tail.min())
        row = {
            "call": call, "wall_s": wall, "min_bulk_ess": bulk, "min_tail_ess": tail,
            "min_ess_per_s": bulk / wall, "median_bulk_ess": float(np.median(all_bulk)),
            "divergences": div, "leapfrog_steps": steps,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }  # fmt: skip
        if args.peer == "stan":
            row["stan_build_s"] = call_stan.__defaults__[-1]["build_s"]
        print("RESULT " + json.dumps(row), flush=True)


# --------------------------------------------------------------------------------------------
# the driver


def run_one(peer, table_path, settings, seed, x64, hbayesdm_dir, timeout, calls=2, model="bandit2arm_delta"):
    cmd = [sys.executable, __file__, "--worker", peer, "--table", str(table_path), "--model", model,
           "--settings", json.dumps(settings), "--seed", str(seed), "--calls", str(calls)]  # fmt: skip
    if x64:
        cmd.append("--x64")
    if hbayesdm_dir:
        cmd += ["--hbayesdm", hbayesdm_dir]
    # own process group: on a timeout the worker's children (Stan's chain processes) go too
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        print(f"  {peer}: timed out after {timeout} s", flush=True)
        return []
    out = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    rows = [json.loads(line[7:]) for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not rows:
        print(f"  {peer} failed (exit {out.returncode}):\n{out.stderr[-3000:]}", flush=True)
    return rows


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    """Median [min, max] over repetitions of each figure, per workload, peer and call.

    A figure missing from some runs (pooled files recorded before it was added) is summarised
    over the runs that have it.
    """
    figures = ["wall_s", "min_bulk_ess", "min_tail_ess", "min_ess_per_s", "median_bulk_ess", "divergences",
               "leapfrog_steps", "peak_rss_mb"]  # fmt: skip
    rows = []
    for (workload, peer, call), g in raw.groupby(["workload", "peer", "call"], sort=False):
        row = {"workload": workload, "peer": peer, "call": call, "repeats": len(g)}
        for f in figures:
            v = g[f].to_numpy(dtype=float) if f in g else np.array([])
            v = v[~np.isnan(v)]  # runs recorded before a figure was added lack it
            if not v.size:
                continue
            row[f] = f"{np.median(v):.4g} [{v.min():.4g}, {v.max():.4g}]" if len(v) > 1 else f"{v[0]:.4g}"
        if "stan_build_s" in g and g["stan_build_s"].notna().any():
            row["stan_build_s"] = f"{g['stan_build_s'].median():.0f}"
        rows.append(row)
    return pd.DataFrame(rows)


def ratio_interval(a, b, level: float = 0.95, n_boot: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap interval of ``median(a) / median(b)``.

    Each peer's repetitions are resampled independently (a repetition's seed gives unrelated
    chains in two peers, so they are not paired). With a handful of repetitions per peer the
    interval says whether a ratio's distance from 1 is larger than the spread between seeds.

    Parameters
    ----------
    a, b : array-like, shape (repeats,)
        One figure (min-ESS/s) per repetition of each peer.
    level : float, default 0.95
    n_boot : int, default 10000
    seed : int, default 0

    Returns
    -------
    (low, high) : tuple of float
    """
    rng = np.random.default_rng(seed)
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    boot_a = np.median(rng.choice(a, (n_boot, a.size)), axis=1)
    boot_b = np.median(rng.choice(b, (n_boot, b.size)), axis=1)
    low, high = np.percentile(boot_a / boot_b, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)


def ratios(raw: pd.DataFrame) -> pd.DataFrame:
    """Bayesrl's median min-ESS/s over each peer's, per workload (second calls; first where only those ran).

    With at least 3 repetitions of both, a column ``... 95% interval`` gives
    :func:`ratio_interval` of the ratio.
    """
    second = raw[raw.call == "second"]
    use = pd.concat([second, raw[(raw.call == "first") & ~raw.workload.isin(second.workload)]])
    values = {key: g["min_ess_per_s"].to_numpy(dtype=float) for key, g in use.groupby(["workload", "peer"], sort=False)}
    rows = []
    for workload in raw.workload.unique():
        row = {"workload": workload}
        for us in ("bayesrl", "bayesrl_auto", "bayesrl_nc"):
            ours = values.get((workload, us))
            if ours is None:
                continue
            for peer in ("stan", "numpyro", "bayesrl")[: 3 if us != "bayesrl" else 2]:
                theirs = values.get((workload, peer))
                if theirs is None:
                    continue
                row[f"{us} / {peer}"] = round(float(np.median(ours) / np.median(theirs)), 2)
                if min(ours.size, theirs.size) >= 3:
                    low, high = ratio_interval(ours, theirs)
                    row[f"{us} / {peer} 95% interval"] = f"[{low:.2f}, {high:.2f}]"
        if len(row) > 1:  # bayesrl ran beside a peer
            rows.append(row)
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--quick", action="store_true", help="tiny settings, one repetition: check the script runs")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--workloads", default="example,200x200")
    ap.add_argument("--large", action="store_true", help="add the 1000 x 200 workload")
    ap.add_argument("--x64", action="store_true", help="JAX peers in float64 (default float32)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--calls", type=int, default=2, choices=(1, 2),
                    help="fits per process: 1 = only the first (with compilation), for large workloads")  # fmt: skip
    ap.add_argument(
        "--repeats-large",
        type=int,
        default=None,
        help="repetitions for workloads other than the example (default --repeats)",
    )
    ap.add_argument("--hbayesdm", default=None, help="an unpacked hBayesDM sdist (else fetched with pip)")
    ap.add_argument("--timeout", type=int, default=4 * 3600, help="seconds per process")
    ap.add_argument("--name", default="bench_peers", help="stem of the files written to --out")
    ap.add_argument(
        "--from-runs",
        nargs="+",
        default=None,
        metavar="RUNS_CSV",
        help="run nothing: pool these *_runs.csv files (e.g. several seed ranges) into one table",
    )
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--peer", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--table", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--settings", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--model", default="bandit2arm_delta", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        args.peer = args.worker
        worker(args)
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.from_runs:
        raw = pd.concat([pd.read_csv(f) for f in args.from_runs], ignore_index=True)
        header = (
            f"# bench_peers, pooled ({datetime.date.today()})\n\n"
            f"Runs pooled from {', '.join(Path(f).name for f in args.from_runs)} (their machine, settings and "
            "date are in each file's own table); median [min, max] over all their repetitions.\n\n"
        )
        write_tables(raw, out, args.name, header, runs=False)  # the runs are in the files pooled
        return 0

    settings = dict(num_warmup=1000, num_samples=1000, num_chains=4)
    repeats = args.repeats
    if args.quick:
        settings, repeats = dict(num_warmup=100, num_samples=100, num_chains=4), 1
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    if "stan" in peers:
        try:
            import stan  # noqa: F401
        except ImportError:
            print("stan (PyStan 3) is not installed here: the Stan peer is skipped (pip install pystan)", flush=True)
            peers.remove("stan")
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()] + (["1000x200"] if args.large else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for workload in workloads:
            model = workload_model(workload)
            quick_ok = workload in WORKLOAD_MODELS
            try:
                table = workload_table(workload if not args.quick or quick_ok else "20x50", args.hbayesdm)
            except Exception as err:  # bandit4arm without hBayesDM's sdist
                print(f"{workload}: data not available ({err}); skipped", flush=True)
                continue
            if "numpyro" in peers and model in NUMPYRO_MODELS:
                print(f"hand-written {model} vs bayesrl: {check_hand_written(model, table):.2g}", flush=True)
            path = Path(tmp) / f"{workload}.csv"
            table.to_csv(path, index=False)
            n_p, n_t = table.subjID.nunique(), table.groupby("subjID").size().max()
            reps = repeats if workload == "example" or args.repeats_large is None else args.repeats_large
            for rep in range(reps):
                for peer in peers:
                    if peer == "numpyro" and model not in NUMPYRO_MODELS:
                        print(f"{workload}: no hand-written NumPyro model of {model}; skipped", flush=True)
                        continue
                    print(f"{workload} ({n_p} x {n_t}) {peer} repetition {rep + 1}/{reps}", flush=True)
                    for row in run_one(peer, path, settings, args.seed + rep, args.x64, args.hbayesdm, args.timeout,
                                       args.calls, model):  # fmt: skip
                        rows.append({"workload": f"{workload} ({n_p} x {n_t})", "model": model, "peer": peer,
                                     "repeat": rep, **row})  # fmt: skip
                        print(f"  {row}", flush=True)
    if not rows:
        print("no run finished: nothing to write", flush=True)
        return 1
    raw = pd.DataFrame(rows)
    header = (
        f"# bench_peers ({datetime.date.today()})\n\n"
        f"Machine: {machine()}; JAX peers in float{'64' if args.x64 else '32'}, 4 chains on 4 host devices "
        f"(parallel); Stan (PyStan 3) runs its chains in parallel processes.\n"
        f"Settings: {settings}, {repeats} repetitions (median [min, max]); models: "
        + ", ".join(f"{w} {m}" for w, m in raw.groupby("workload", sort=False)["model"].first().items())
        + " (hBayesDM's priors and transforms in every peer). Min ESS over every parameter. `first`: fresh "
        "process, empty compilation cache (Stan's C++ build is `stan_build_s`, not included in `wall_s`); "
        "`second`: same process, same shapes.\n\n"
    )
    write_tables(raw, out, args.name + ("_quick" if args.quick else ""), header)
    return 0


def write_tables(raw: pd.DataFrame, out: Path, name: str, header: str, runs: bool = True) -> str:
    """Write ``{name}.csv`` (the summary), ``{name}.md`` and with ``runs`` ``{name}_runs.csv`` (every call).

    Returns the Markdown text.
    """
    if runs:
        raw.to_csv(out / f"{name}_runs.csv", index=False)
    summary = summarise(raw)
    summary.to_csv(out / f"{name}.csv", index=False)
    text = header + markdown(summary) + "\n"
    ratio = ratios(raw)
    if not ratio.empty:
        text += (
            "\nRatios of median min-ESS/s (second call; first call where only one ran), bayesrl over each peer, "
            "with a 95% bootstrap interval where both peers ran at least 3 repetitions (`ratio_interval`: "
            "each peer's repetitions resampled):\n\n"
        )
        text += markdown(ratio) + "\n"
    (out / f"{name}.md").write_text(text)
    print(text)
    return text


if __name__ == "__main__":
    sys.exit(main())
