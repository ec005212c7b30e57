"""Gradient cost on hBayesDM's example data sets: bayesrl vs the hand-written NumPyro model, per model.

``bench_gradient.py`` follows one model (``bandit2arm_delta``) as the data grow; this script
takes every model that has a hand-written NumPyro baseline in ``bench_peers.py``
(``NUMPYRO_MODELS``) on its workload's data (``bench_peers.workload_table``: hBayesDM's 2-armed
bandit example, 20 x 100; its 4-armed gain/loss example, 10 x 200, ``bandit4arm_4par``; its
two-step example, 11 x 200, ``ts_par4``) and times one evaluation of the log density and its
gradient inside a compiled loop, as NUTS runs it (median of ``--reps`` timed calls after a
warm-up), two ways:

- one chain (``_timing.in_loop``);
- the chains of a fit (``_timing.in_parallel_chains``): every host device (4, bayesrl's
  default) running its own loop at once under ``jax.pmap``; the wall time of one step of all
  chains. This is what a fit pays, and on small problems it is not one chain's time times
  chains over cores.

bayesrl's is the potential of ``brl.fit``'s hierarchical model (``inference.model_of_data``),
the hand-written one that of the model ``bench_peers.py`` fits; both have hBayesDM's priors and
transforms, and the hand-written likelihood is checked against bayesrl's on the data first
(``bench_peers.check_hand_written``).

    python benchmarks/bench_gradient_examples.py --out benchmarks/results [--x64]

It writes ``bench_gradient_examples.md``/``.csv``: microseconds per gradient and nanoseconds
per trial (a row of the example file; the two-step model scores two choices per trial) for one
chain, microseconds per step of the parallel chains (``*_chains_us``), and bayesrl's ratios to
the hand-written model. hBayesDM's examples are fetched with its sdist (``stan_agreement.py``).
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _report import machine, markdown  # noqa: E402
from _timing import in_loop, in_parallel_chains  # noqa: E402

WORKLOADS = ("example", "bandit4arm", "twostep")


def potentials(workload: str, hbayesdm_dir: str | None):
    """``{name: (value_and_grad, z, model_args)}`` for bayesrl and the hand-written model, and the table."""
    import jax
    from bench_peers import NUMPYRO_MODELS, check_hand_written, padded, workload_model, workload_table
    from numpyro.infer.util import initialize_model

    import bayesrl as brl
    from bayesrl import data as data_mod
    from bayesrl.hierarchy import resolve_priors
    from bayesrl.inference import model_of_data

    table = workload_table(workload, hbayesdm_dir)
    name = workload_model(workload)
    hand = NUMPYRO_MODELS[name]
    check_hand_written(name, table)
    key = jax.random.PRNGKey(0)

    def compiled(fn, args):  # the data as arguments of the compiled function, as in a fit
        info = initialize_model(key, fn, model_args=args, dynamic_args=True)

        def value_and_grad(z, args):
            return jax.value_and_grad(info.potential_fn(*args))(z)

        return value_and_grad, info.param_info.z, args

    model = brl.models.get(name)()
    trials = data_mod.prepare(table, model).trials(model)
    fn, args = model_of_data(model, trials, resolve_priors(model, None))
    out = {
        "bayesrl": compiled(fn, args),
        "numpyro": compiled(hand.model, padded(table, hand.columns, hand.choice)),
    }
    return out, name, table


def measure(workloads, reps, hbayesdm_dir) -> pd.DataFrame:
    rows = []
    for workload in workloads:
        fns, name, table = potentials(workload, hbayesdm_dir)
        n_p = table.subjID.nunique()
        row = {"workload": workload, "model": name, "participants": n_p, "trials": len(table)}
        for peer, (f, z, args) in fns.items():
            seconds = in_loop(f, z, args, reps)
            row[f"{peer}_us"] = seconds * 1e6
            row[f"{peer}_ns_per_trial"] = seconds / len(table) * 1e9
        row["bayesrl_over_numpyro"] = row["bayesrl_us"] / row["numpyro_us"]
        for peer, (f, z, args) in fns.items():
            row[f"{peer}_chains_us"] = in_parallel_chains(f, z, args, reps) * 1e6
        row["chains_bayesrl_over_numpyro"] = row["bayesrl_chains_us"] / row["numpyro_chains_us"]
        rows.append(row)
        print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    return pd.DataFrame(rows)


def source_commit(package) -> str:
    """The git commit of ``package``'s source tree (``git describe``), or "an unknown commit"."""
    import subprocess

    try:
        out = subprocess.run(["git", "-C", str(Path(package.__file__).parent), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, check=True)  # fmt: skip
        return f"commit {out.stdout.strip()}"
    except (OSError, subprocess.CalledProcessError):
        return "an unknown commit"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--x64", action="store_true", help="float64 (default float32)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--hbayesdm", default=None, help="an unpacked hBayesDM sdist (else fetched with pip)")
    ap.add_argument("--suffix", default="", help="appended to the output file names")
    args = ap.parse_args(argv)

    import jax

    import bayesrl  # noqa: F401  (before JAX starts)

    jax.config.update("jax_enable_x64", args.x64)
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    commit = source_commit(bayesrl)  # before writing results into the tree
    table = measure(workloads, args.reps, args.hbayesdm)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"bench_gradient_examples{'_x64' if args.x64 else ''}{args.suffix}"
    table.to_csv(out / f"{stem}.csv", index=False)
    devices = jax.local_device_count()
    text = (
        f"# bench_gradient_examples ({datetime.date.today()})\n\n"
        f"Machine: {machine()}, float{'64' if args.x64 else '32'}, bayesrl at {commit}. "
        f"One log-density value-and-gradient inside a compiled loop (median of {args.reps}): one chain "
        f"(`*_us`, `*_ns_per_trial`), and one step of {devices} chains on {devices} host devices at once "
        "(`*_chains_us`); `trials`: rows of the example file.\n\n" + markdown(table.round(3)) + "\n"
    )
    (out / f"{stem}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
