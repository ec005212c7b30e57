"""GPU fit benchmark: the bench_fit table for workloads up to 10,000 participants x 200 trials.

Runs on whatever device JAX finds (meant for one GPU; on a CPU use ``--quick`` to check the
script). ``--trial-loop associative`` fits with the associative-scan trial loop
(``Model.trial_loop``; written to ``bench_gpu_associative.*``), to compare with the default
``lax.scan`` on the same device. Workloads: the shipped example (20 x 100), then synthetic ``rescorla_wagner`` data
sets of 200, 1000, 5000 and 10,000 participants x 200 trials (reversal bandit, simulated by
bayesrl). Each is fitted with 4 chains vectorised on the one device (``chain_method=
"vectorized"``; with several devices, ``--shard`` splits the participants over them instead),
float32; the first call includes compilation, a second call of the same shape (``--twice``)
reuses it. Columns as ``bench_fit.py``, plus the device, the time per NUTS iteration and per
leapfrog step, and the peak device memory where the backend reports it. Rows are written as
they finish (``results/bench_gpu.csv``/``.md``), so a run stopped by a time limit keeps what it
measured; ``--budget`` skips the next workload when the elapsed time plus the last workload's
time scaled by its size would pass it.

    python benchmarks/bench_gpu.py --out benchmarks/results            # one GPU, about 10 minutes
    python benchmarks/bench_gpu.py --out /tmp/gpu --quick              # any device, tiny settings
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from bench_fit import markdown, min_ess  # noqa: E402

import bayesrl as brl  # noqa: E402
from bayesrl import _arviz  # noqa: E402

SIZES = (200, 1000, 5000, 10_000)


def synthetic(n_participants: int, n_trials: int = 200) -> pd.DataFrame:
    task = brl.tasks.bandit(
        brl.tasks.reversal_schedule([0.8, 0.2], n_trials=n_trials, every=50), reward=1.0, no_reward=-1.0
    )
    group = {"alpha_mu": -0.4, "alpha_sigma": 0.5, "beta_mu": 0.0, "beta_sigma": 0.5}
    return brl.simulate(brl.models.rescorla_wagner(), group=group, n_participants=n_participants, task=task, seed=7)


def peak_memory_gb() -> float:
    stats = jax.devices()[0].memory_stats() or {}
    return round(stats.get("peak_bytes_in_use", float("nan")) / 2**30, 2)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--twice", action="store_true", help="a second, compiled call per workload")
    ap.add_argument("--shard", action="store_true", help="split participants over all devices")
    ap.add_argument("--budget", type=float, default=570.0, help="seconds; skip workloads that would pass it")
    ap.add_argument("--quick", action="store_true", help="20 x 100, 50 x 50 and 100 x 50 with 50 + 50 draws")
    ap.add_argument(
        "--trial-loop", default="scan", choices=("scan", "associative"),
        help="the model's trial loop (Model.trial_loop): run both on a GPU to see which is faster there",
    )  # fmt: skip
    args = ap.parse_args(argv)
    settings = dict(num_warmup=args.warmup, num_samples=args.samples, num_chains=4)
    workloads = [("example 20 x 100", lambda: brl.datasets.load("bandit2arm"), 2000)]
    workloads += [(f"synthetic {n} x 200", lambda n=n: synthetic(n), n * 200) for n in SIZES]
    if args.quick:
        settings = dict(num_warmup=50, num_samples=50, num_chains=4)
        workloads = workloads[:1] + [(f"synthetic {n} x 50", lambda n=n: synthetic(n, 50), n * 50) for n in (50, 100)]
    chain_method = None if args.shard else "vectorized"
    device = f"{jax.devices()[0].device_kind} x {len(jax.devices())}"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = ("_quick" if args.quick else "") + ("_associative" if args.trial_loop == "associative" else "")
    start_all = time.perf_counter()
    rows, last = [], None
    model = dataclasses.replace(brl.models.rescorla_wagner(), trial_loop=args.trial_loop)
    for label, make, size in workloads:
        elapsed = time.perf_counter() - start_all
        if last is not None and elapsed + last[0] * size / last[1] > args.budget:
            print(f"skipping {label}: would pass the {args.budget:.0f} s budget", flush=True)
            rows.append({"workload": label, "call": "skipped (time budget)"})
            continue
        df = make()
        for call in ["first (with compilation)", "second (compiled)"][: 2 if args.twice else 1]:
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = brl.fit(
                    model, df, seed=0, progress_bar=False, check=False, chain_method=chain_method,
                    shard_participants=args.shard, **settings,
                )  # fmt: skip
            wall = time.perf_counter() - t0
            last = (wall, size)
            bulk, tail, rhat = min_ess(fit)
            stats = _arviz.group(fit.idata, "sample_stats")
            steps = float(np.asarray(stats["n_steps"]).mean())
            iterations = settings["num_chains"] * (settings["num_warmup"] + settings["num_samples"])
            rows.append({
                "workload": label, "call": call, "wall_s": round(wall, 1), "min_bulk_ess": round(bulk),
                "min_tail_ess": round(tail), "max_rhat": round(rhat, 3), "min_ess_per_s": round(bulk / wall, 1),
                "divergences": int(np.asarray(stats["diverging"]).sum()), "mean_leapfrog_steps": round(steps, 1),
                "ms_per_iteration": round(1e3 * wall / iterations * settings["num_chains"], 2),
                "us_per_leapfrog_step": round(1e6 * wall / (iterations / settings["num_chains"] * steps), 1),
                "peak_device_gb": peak_memory_gb(), "chain_method": fit.metadata["sampler"]["chain_method"],
            })  # fmt: skip
            print(rows[-1], flush=True)
            table = pd.DataFrame(rows)
            table.to_csv(out / f"bench_gpu{suffix}.csv", index=False)
            header = (
                f"# bench_gpu ({datetime.date.today()})\n\n"
                f"Device: {device}; host {platform.machine()}, {os.cpu_count()} CPU cores, Python "
                f"{platform.python_version()}, jax {jax.__version__}, "
                f"float{'64' if jax.config.jax_enable_x64 else '32'}. Settings: {settings}, rescorla_wagner "
                f"(trial loop {args.trial_loop}), "
                "seed 0; chains vectorised on the device unless sharded. `ms_per_iteration`: wall time per NUTS "
                "iteration of the 4 chains together; `us_per_leapfrog_step`: per gradient step of one chain's "
                "trajectory (4 chains in lockstep).\n\n"
            )
            (out / f"bench_gpu{suffix}.md").write_text(header + markdown(table.astype(object).fillna("")) + "\n")
    print(f"done in {time.perf_counter() - start_all:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
