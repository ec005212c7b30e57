"""Trial loop: ``lax.scan`` against ``lax.associative_scan`` for a model with a linear update.

Times one value-and-gradient of the whole hierarchical log density (what NUTS evaluates at
every leapfrog step) of ``bandit2arm_delta`` (plain Rescorla-Wagner, which declares
``linear_update``) with ``trial_loop="scan"`` and ``trial_loop="associative"``, inside a
compiled loop as NUTS runs it (``_timing.in_loop``), data passed as arguments as in a fit,
over a grid of participants x trials; median of ``--reps`` timed calls after a warm-up call.
Writes ``bench_trial_loop.md``/``.csv``: microseconds per gradient for both loops and their
ratio (below 1: the associative scan is faster).

    python benchmarks/bench_trial_loop.py --out benchmarks/results [--x64] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import markdown  # noqa: E402
from _timing import in_loop  # noqa: E402


def gradient(model, n_p, n_t, seed=0):
    """``value_and_grad(z, args)`` of the potential with the data as arguments, a point ``z`` and ``args``."""
    import jax
    from numpyro.infer.util import initialize_model

    from bayesrl import data as data_mod
    from bayesrl.hierarchy import resolve_priors
    from bayesrl.inference import model_of_data

    rng = np.random.default_rng(seed)
    table = pd.DataFrame({
        "subjID": np.repeat(np.arange(n_p), n_t), "choice": rng.integers(1, 3, n_p * n_t),
        "outcome": rng.integers(0, 2, n_p * n_t).astype(float),
    })  # fmt: skip
    trials = data_mod.prepare(table, model).trials(model)
    fn, args = model_of_data(model, trials, resolve_priors(model, None))
    info = initialize_model(jax.random.PRNGKey(0), fn, model_args=args, dynamic_args=True)

    def value_and_grad(z, args):
        return jax.value_and_grad(info.potential_fn(*args))(z)

    return value_and_grad, info.param_info.z, args


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--x64", action="store_true", help="float64 (default float32)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--participants", default="1,5,20,200,1000", help="comma-separated")
    ap.add_argument("--trials", default="100,200,500,1000,2000", help="comma-separated")
    args = ap.parse_args(argv)

    import jax

    import bayesrl as brl

    jax.config.update("jax_enable_x64", args.x64)
    participants = [int(x) for x in args.participants.split(",")]
    trials = [int(x) for x in args.trials.split(",")]
    if args.quick:
        participants, trials = [10], [50, 200]
    base = brl.models.bandit2arm_delta()
    rows = []
    for n_p in participants:
        for n_t in trials:
            row = {"participants": n_p, "trials": n_t}
            for loop in ("scan", "associative"):
                vg, z, data = gradient(dataclasses.replace(base, trial_loop=loop), n_p, n_t)
                row[f"{loop}_us"] = in_loop(vg, z, data, args.reps if not args.quick else 2) * 1e6
            row["associative_over_scan"] = row["associative_us"] / row["scan_us"]
            rows.append(row)
            print({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
    table = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"bench_trial_loop{'_x64' if args.x64 else ''}{'_quick' if args.quick else ''}"
    table.to_csv(out / f"{name}.csv", index=False)
    show = table.round(3)
    text = (
        f"# bench_trial_loop ({datetime.date.today()})\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, backend {jax.default_backend()}, "
        f"Python {platform.python_version()}, jax {jax.__version__}, float{'64' if args.x64 else '32'}. "
        "One value-and-gradient of bandit2arm_delta's whole log density inside a compiled loop (microseconds, "
        "median of timed calls); ratio below 1: the associative scan is faster.\n\n" + markdown(show) + "\n"
    )
    (out / f"{name}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
