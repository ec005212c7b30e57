"""Fit benchmark: wall time (with and without compilation), min ESS and min-ESS per second.

Workloads: the shipped example (20 participants x 100 trials) and a synthetic 200 x 200
data set simulated from ``rescorla_wagner``. The example is fitted twice in one process with
the same settings: the first call includes compilation, the second reuses it (JAX's persistent
and in-memory caches), so their difference is the compilation overhead. The 200 x 200 set is
fitted once unless ``--repeat-large`` is given (compilation does not grow with the data: the
likelihood is a scan). ESS is the minimum over every sampled and derived parameter
(participant-level alpha/beta, their mu/sigma/z). Writes ``results/bench_fit.md`` and
``.csv`` (``--name`` for another stem); ``--sizes example,100x100`` picks the workloads
(``PxT``: participants x trials simulated the same way).

    python benchmarks/bench_fit.py --out benchmarks/results [--quick] [--sizes example,200x200]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

# a private cache folder so the first call really compiles
os.environ.setdefault("BAYESRL_CACHE_DIR", tempfile.mkdtemp(prefix="bayesrl-bench-cache-"))

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import bayesrl as brl  # noqa: E402
from bayesrl import _arviz  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import markdown, parse_size  # noqa: E402, F401  (bench_gpu imports markdown from here)


def parse_sizes(text: str) -> list:
    """``"example,100x100"`` -> ``["example", (100, 100)]`` (participants x trials)."""
    return [item.strip() if item.strip() == "example" else parse_size(item) for item in text.split(",")]


def workloads(sizes=("example", (200, 200))):
    """``(label, table)`` of each size: hBayesDM's example, or data simulated from ``rescorla_wagner``."""
    group = {"alpha_mu": -0.4, "alpha_sigma": 0.5, "beta_mu": 0.0, "beta_sigma": 0.5}
    for size in sizes:
        if size == "example":
            yield "example 20 x 100", brl.datasets.load("bandit2arm")
            continue
        n_p, n_t = size
        schedule = brl.tasks.reversal_schedule([0.8, 0.2], n_trials=n_t, every=50)
        task = brl.tasks.bandit(schedule, reward=1.0, no_reward=-1.0)
        table = brl.simulate(brl.models.rescorla_wagner(), group=group, n_participants=n_p, task=task, seed=7)
        yield f"synthetic {n_p} x {n_t}", table


def min_ess(fit):
    names = [v for v in fit.posterior.data_vars if not v.endswith("_group")]
    bulk, tail, rhat = _arviz.ess_rhat(fit.idata, names)
    return min(bulk.values()), min(tail.values()), max(rhat.values())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--quick", action="store_true", help="tiny settings, to check the script runs")
    ap.add_argument("--repeat-large", action="store_true", help="also time a second (compiled) fit of synthetic data")
    ap.add_argument("--sizes", default="example,200x200", help="comma-separated: example and/or PxT (e.g. 100x100)")
    ap.add_argument("--name", default="bench_fit", help="stem of the files written to --out")
    args = ap.parse_args()
    settings = dict(num_warmup=1000, num_samples=1000, num_chains=4)
    if args.quick:
        settings = dict(num_warmup=50, num_samples=50, num_chains=4)
    rows = []
    model = brl.models.rescorla_wagner()
    for label, df in workloads(parse_sizes(args.sizes)):
        times = []
        calls = ["first (with compilation)", "second (compiled)"]
        if label.startswith("synthetic") and not args.repeat_large:
            calls = calls[:1]  # a second 200 x 200 fit costs another few minutes on 2 cores
        for call in calls:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = brl.fit(model, df, seed=0, progress_bar=False, check=False, **settings)
            times.append(time.perf_counter() - start)
            bulk, tail, rhat = min_ess(fit)
            div = int(np.asarray(_arviz.group(fit.idata, "sample_stats")["diverging"]).sum())
            steps = float(np.asarray(_arviz.group(fit.idata, "sample_stats")["n_steps"]).mean())
            rows.append(
                {
                    "workload": label,
                    "call": call,
                    "wall_s": round(times[-1], 1),
                    "min_bulk_ess": round(bulk),
                    "min_tail_ess": round(tail),
                    "max_rhat": round(rhat, 3),
                    "min_ess_per_s": round(bulk / times[-1], 1),
                    "divergences": div,
                    "mean_leapfrog_steps": round(steps, 1),
                    "chain_method": fit.metadata["sampler"]["chain_method"],
                }
            )
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    os.makedirs(args.out, exist_ok=True)
    suffix = "_quick" if args.quick else ""
    table.to_csv(os.path.join(args.out, f"{args.name}{suffix}.csv"), index=False)
    header = (
        f"# bench_fit ({datetime.date.today()})\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, {platform.python_version()}, "
        f"jax {jax.__version__}, devices {[str(d) for d in jax.devices()]}, "
        f"float{'64' if jax.config.jax_enable_x64 else '32'}.\n"
        f"Settings: {settings}, rescorla_wagner, seed 0. Min ESS over all parameters "
        f"(participant-level and group-level); min-ESS/s uses the wall time of that call.\n\n"
    )
    with open(os.path.join(args.out, f"{args.name}{suffix}.md"), "w") as fh:
        fh.write(header + markdown(table) + "\n")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
