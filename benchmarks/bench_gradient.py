"""Gradient cost: bayesrl vs the hand-written NumPyro model vs a compiled hand-written reference.

The cost NUTS pays per leapfrog step is one evaluation of the log density and its gradient.
This script times that evaluation inside a compiled loop, as NUTS runs it (``_timing.in_loop``:
no Python dispatch between evaluations; median of ``--reps`` timed calls after a warm-up)
for the 2-armed Rescorla-Wagner model (hBayesDM's ``bandit2arm_delta``) as data grow:

- participants 50 -> 5000 at 200 trials, and trials 100 -> 2000 at 50 participants, plus
  20 x 100 (axis ``example``: the shape of ``bench_peers.py``'s example, where the fixed cost
  of each trial step weighs most; left out of the slopes);
- three implementations: bayesrl's potential (the full hierarchical model NUTS samples), the
  hand-written NumPyro model of ``bench_peers.py`` (same priors), and the "physical limit": the
  likelihood and its gradient with respect to every participant's (A, tau) written by hand in
  numba (a forward pass storing the values, a reverse pass for the adjoints), compiled with
  ``@njit(fastmath=False)``; it leaves out the priors and transforms, which cost O(participants).

It writes ``bench_gradient.md``/``.csv`` (ns per trial per gradient, and bayesrl's ratio to the
reference) and ``bench_gradient.png`` (time per gradient against participants and trials, log-log,
with the fitted slopes).

    python benchmarks/bench_gradient.py --out benchmarks/results [--quick] [--x64] [--sizes 20x100,24x100] [--name STEM]

numba is in the benchmark-only extra (``pip install -e '.[bench]'``, which adds PyStan too);
without it the reference column is empty.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _report import machine, markdown, parse_size  # noqa: E402
from _timing import in_loop, timed  # noqa: E402


def rw_reference():
    """Compiled log-likelihood and gradient of the 2-armed RW model, or None without numba."""
    try:
        from numba import njit
    except ImportError:
        return None

    @njit(cache=False)
    def loglik_grad(a, tau, choice, outcome, valid):
        n, t = choice.shape
        total = 0.0
        ga = np.zeros(n)
        gt = np.zeros(n)
        q = np.zeros((t + 1, 2))
        for i in range(n):
            q[0, 0] = 0.0
            q[0, 1] = 0.0
            for k in range(t):  # forward: values before each trial
                q[k + 1, 0] = q[k, 0]
                q[k + 1, 1] = q[k, 1]
                if valid[i, k]:
                    c = choice[i, k]
                    d = tau[i] * (q[k, 1] - q[k, 0])
                    lp1 = -np.log1p(np.exp(-d)) if d > 0 else d - np.log1p(np.exp(d))
                    lp0 = lp1 - d
                    total += lp1 if c == 1 else lp0
                    q[k + 1, c] = q[k, c] + a[i] * (outcome[i, k] - q[k, c])
            g0 = 0.0  # adjoints of q[k + 1]
            g1 = 0.0
            for k in range(t - 1, -1, -1):  # reverse
                if not valid[i, k]:
                    continue
                c = choice[i, k]
                qc = q[k, c]
                # update: q[k+1, c] = (1 - a) q[k, c] + a o
                gc = g1 if c == 1 else g0
                ga[i] += gc * (outcome[i, k] - qc)
                if c == 1:
                    g1 = gc * (1.0 - a[i])
                else:
                    g0 = gc * (1.0 - a[i])
                # likelihood term: tau q[c] - logsumexp(tau q)
                d = tau[i] * (q[k, 1] - q[k, 0])
                p1 = 1.0 / (1.0 + np.exp(-d))
                e1 = (1.0 if c == 1 else 0.0) - p1
                gt[i] += e1 * (q[k, 1] - q[k, 0])
                g1 += tau[i] * e1
                g0 -= tau[i] * e1
        return total, ga, gt

    return loglik_grad


def data(n_p, n_t, seed=0):
    rng = np.random.default_rng(seed)
    choice = rng.integers(0, 2, size=(n_p, n_t))
    outcome = rng.integers(0, 2, size=(n_p, n_t)).astype(float)
    valid = np.ones((n_p, n_t), bool)
    return choice, outcome, valid


def potentials(n_p, n_t):
    """Compiled ``value_and_grad`` of the potential of bayesrl's and the hand-written model.

    The data are arguments of the compiled function, as in a fit (``jit_model_args``): closed
    over, XLA would fold them in as constants, which is not what NUTS runs.
    """
    import jax
    import pandas as pd
    from bench_peers import numpyro_model
    from numpyro.infer.util import initialize_model

    import bayesrl as brl
    from bayesrl import data as data_mod
    from bayesrl.hierarchy import resolve_priors
    from bayesrl.inference import model_of_data

    choice, outcome, valid = data(n_p, n_t)
    key = jax.random.PRNGKey(0)

    def compiled(fn, args):
        info = initialize_model(key, fn, model_args=args, dynamic_args=True)

        def value_and_grad(z, args):
            return jax.value_and_grad(info.potential_fn(*args))(z)

        return value_and_grad, info.param_info.z, args

    out = {"numpyro": compiled(numpyro_model, (choice, outcome, valid))}
    model = brl.models.bandit2arm_delta()
    table = pd.DataFrame({
        "subjID": np.repeat(np.arange(n_p), n_t), "choice": choice.reshape(-1) + 1, "outcome": outcome.reshape(-1),
    })  # fmt: skip
    trials = data_mod.prepare(table, model).trials(model)
    fn, args = model_of_data(model, trials, resolve_priors(model, None))
    out["bayesrl"] = compiled(fn, args)
    return out


def measure(sizes, reps, reference):

    rows = []
    for axis, n_p, n_t in sizes:
        row = {"axis": axis, "participants": n_p, "trials": n_t}
        for name, (f, z, model_args) in potentials(n_p, n_t).items():
            row[f"{name}_s"] = in_loop(f, z, model_args, reps)
        if reference is not None:
            choice, outcome, valid = data(n_p, n_t)
            a, tau = np.full(n_p, 0.3), np.full(n_p, 2.0)
            args = (a, tau, choice, outcome, valid)
            row["reference_s"] = timed(lambda args=args: reference(*args), reps)
        for k in [c for c in row if c.endswith("_s")]:
            row[k.replace("_s", "_ns_per_trial")] = row[k] / (n_p * n_t) * 1e9
        if "reference_s" in row:
            row["bayesrl_over_reference"] = row["bayesrl_s"] / row["reference_s"]
        row["bayesrl_over_numpyro"] = row["bayesrl_s"] / row["numpyro_s"]
        rows.append(row)
        print({k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    return pd.DataFrame(rows)


def check_reference(reference):
    """The hand-written gradient against JAX's on a small problem (else the reference is wrong)."""
    import jax
    import jax.numpy as jnp

    choice, outcome, valid = data(3, 40, seed=2)
    valid[1, 30:] = False

    def loglik(a, tau):
        def one(a, tau, c, o, v):
            def step(q, x):
                c, o, v = x
                lp = jax.nn.log_softmax(tau * q)[c]
                q = jnp.where(v, q.at[c].add(a * (o - q[c])), q)
                return q, jnp.where(v, lp, 0.0)

            return jax.lax.scan(step, jnp.zeros(2), (c, o, v))[1].sum()

        return jax.vmap(one)(a, tau, choice, outcome, valid).sum()

    a, tau = np.array([0.2, 0.5, 0.8]), np.array([1.0, 3.0, 0.5])
    value, (ga, gt) = jax.value_and_grad(loglik, argnums=(0, 1))(jnp.asarray(a), jnp.asarray(tau))
    v2, ga2, gt2 = reference(a, tau, choice, outcome, valid)
    np.testing.assert_allclose([v2, *ga2, *gt2], [float(value), *np.asarray(ga), *np.asarray(gt)], rtol=1e-4)


def plot(table: pd.DataFrame, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    slopes = {}
    for ax, axis, x in zip(axes, ("participants", "trials"), ("participants", "trials"), strict=True):
        t = table[table.axis == axis]
        for col, label in (("bayesrl_s", "bayesrl"), ("numpyro_s", "hand-written NumPyro"),
                           ("reference_s", "numba reference")):  # fmt: skip
            if col not in t or t[col].isna().all():
                continue
            slope = np.polyfit(np.log(t[x]), np.log(t[col]), 1)[0]
            slopes[(axis, label)] = slope
            ax.loglog(t[x], t[col] * 1e3, "o-", label=f"{label} (slope {slope:.2f})")
        ax.set_xlabel(x)
        ax.set_ylabel("ms per log-density gradient")
        ax.set_title(f"growing {x}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return slopes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--x64", action="store_true", help="float64 (default float32)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument(
        "--sizes",
        default=None,
        help="comma-separated PxT (e.g. 20x100,24x100) instead of the two axes (axis 'sizes', no slopes)",
    )
    ap.add_argument("--name", default="bench_gradient", help="stem of the files written to --out")
    args = ap.parse_args(argv)

    import jax

    import bayesrl  # noqa: F401  (before JAX starts)

    jax.config.update("jax_enable_x64", args.x64)
    participants = [50, 200, 1000, 5000]
    trials = [100, 200, 500, 1000, 2000]
    if args.quick:
        participants, trials = [10, 40], [50, 100]
    sizes = [("participants", n, 200 if not args.quick else 50) for n in participants]
    sizes += [("trials", 50 if not args.quick else 10, t) for t in trials]
    sizes += [("example", 20, 100)]  # the shape of hBayesDM's example, bench_peers.py's first workload
    if args.sizes:
        sizes = [("sizes", *parse_size(item)) for item in args.sizes.split(",")]
    reference = rw_reference()
    if reference is None:
        print("numba is not installed: no compiled reference (pip install numba)", flush=True)
    else:
        check_reference(reference)
    table = measure(sizes, args.reps if not args.quick else 2, reference)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = ("_x64" if args.x64 else "") + ("_quick" if args.quick else "")
    table.to_csv(out / f"{args.name}{suffix}.csv", index=False)
    slopes = {} if args.sizes else plot(table, out / f"{args.name}{suffix}.png")
    show = table[[c for c in table.columns if c.endswith("_ns_per_trial") or c.endswith("_over_reference")
                  or c.endswith("_over_numpyro") or c in ("axis", "participants", "trials")]].round(2)  # fmt: skip
    text = (
        f"# bench_gradient ({datetime.date.today()})\n\n"
        f"Machine: {machine()}, float{'64' if args.x64 else '32'} (the numba reference is float64). "
        "Time of one log-density value-and-gradient inside a compiled loop (the numba reference: one call), "
        "per trial.\n\n"
        + markdown(show)
        + (
            "\n\nLog-log slopes of time against size: "
            + ", ".join(f"{label} vs {axis}: {s:.2f}" for (axis, label), s in slopes.items())
            if slopes
            else ""
        )
        + "\n"
    )
    (out / f"{args.name}{suffix}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
