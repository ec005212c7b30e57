"""Cost per effective sample as participants and trials grow: whole bayesrl fits, log-log slopes.

``bench_gradient.py`` measures how one gradient's cost grows; what a user waits for is the time
per effective sample, which also grows with the trees NUTS builds (leapfrog steps per iteration)
and shrinks or grows with the ESS per draw. This script fits ``bandit2arm_delta`` with bayesrl
(4 chains x (``--warmup`` + ``--samples``) on 4 host devices, float32) to synthetic data of
``bench_peers.py``'s generator along two axes,

- participants ``--participants`` (default 25, 50, 100, 200) at ``--base-trials`` (100) trials;
- trials ``--trials`` (default 100, 200, 400) at ``--base-participants`` (25) participants,

each size in a fresh process (``bench_peers.run_one``: empty compilation cache), two fits per
process; the second (compiled) is the one reported. Figures: wall time, min bulk and tail ESS
over every parameter, seconds per effective sample (wall / min bulk ESS), leapfrog steps per
draw, divergences, and ns per trial per leapfrog step (wall x cores / (chains x iterations x
steps per draw x trials): the draws' mean tree counted for every iteration, so an upper bound).
It writes ``bench_growth.md``/``.csv`` and ``bench_growth.png`` (seconds per effective sample
against size, log-log, with fitted slopes).

    python benchmarks/bench_growth.py --out benchmarks/results [--quick]

The issue's full ranges (50 -> 5000 participants, 100 -> 2000 trials) are out of reach for whole
fits on 2 cores (1000 x 200 alone took 28 minutes); the gradient's growth over those ranges is
``bench_gradient.py``'s.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _report import machine, markdown  # noqa: E402
from bench_peers import run_one, workload_table  # noqa: E402


def sizes(args) -> list[tuple[str, int, int]]:
    out = [("participants", int(n), args.base_trials) for n in args.participants.split(",")]
    return out + [("trials", args.base_participants, int(t)) for t in args.trials.split(",")]


def measure(grid, settings, timeout) -> pd.DataFrame:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for axis, n_p, n_t in grid:
            path = Path(tmp) / f"{n_p}x{n_t}.csv"
            workload_table(f"{n_p}x{n_t}", None).to_csv(path, index=False)
            calls = run_one("bayesrl", path, settings, seed=1, x64=False, hbayesdm_dir=None, timeout=timeout, calls=2)
            if len(calls) < 2:
                print(f"{n_p} x {n_t}: no compiled fit finished", flush=True)
                continue
            r = calls[1]
            iterations = settings["num_chains"] * (settings["num_warmup"] + settings["num_samples"])
            step_trials = iterations * r["leapfrog_steps"] * n_p * n_t
            row = {
                "axis": axis, "participants": n_p, "trials": n_t, "wall_s": r["wall_s"],
                "first_call_s": calls[0]["wall_s"], "min_bulk_ess": r["min_bulk_ess"],
                "min_tail_ess": r["min_tail_ess"], "s_per_ess": r["wall_s"] / r["min_bulk_ess"],
                "leapfrog_steps": r["leapfrog_steps"], "divergences": r["divergences"],
                "ns_per_trial_step": r["wall_s"] * os.cpu_count() / step_trials * 1e9,
            }  # fmt: skip
            rows.append(row)
            print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    return pd.DataFrame(rows)


def slopes(table: pd.DataFrame) -> dict:
    out = {}
    for axis in ("participants", "trials"):
        t = table[table.axis == axis]
        if len(t) < 2:
            continue
        for col in ("s_per_ess", "wall_s", "leapfrog_steps"):
            out[(axis, col)] = float(np.polyfit(np.log(t[axis]), np.log(t[col]), 1)[0])
    return out


def plot(table: pd.DataFrame, fitted: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, axis in zip(axes, ("participants", "trials"), strict=True):
        t = table[table.axis == axis]
        if len(t):
            slope = fitted.get((axis, "s_per_ess"), np.nan)
            ax.loglog(t[axis], t["s_per_ess"], "o-", label=f"seconds per min-ESS (slope {slope:.2f})")
            ax.loglog(t[axis], t["wall_s"] / t["wall_s"].iloc[0] * t["s_per_ess"].iloc[0], "s--",
                      label=f"wall time, scaled (slope {fitted.get((axis, 'wall_s'), np.nan):.2f})")  # fmt: skip
        fixed = "trials" if axis == "participants" else "participants"
        ax.set_xlabel(f"{axis} ({t[fixed].iloc[0] if len(t) else '?'} {fixed})")
        ax.set_ylabel("seconds per effective sample")
        ax.set_title(f"growing {axis}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--participants", default="25,50,100,200")
    ap.add_argument("--trials", default="100,200,400")
    ap.add_argument("--base-trials", type=int, default=100)
    ap.add_argument("--base-participants", type=int, default=25)
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per size (one process)")
    ap.add_argument("--quick", action="store_true", help="tiny settings: check the script runs")
    args = ap.parse_args(argv)
    if args.quick:
        args.participants, args.trials, args.base_trials, args.base_participants = "4,8", "20,40", 20, 4
        args.warmup = args.samples = 50
    settings = dict(num_warmup=args.warmup, num_samples=args.samples, num_chains=4)
    table = measure(sizes(args), settings, args.timeout)
    if table.empty:
        print("no size finished", flush=True)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = "bench_growth_quick" if args.quick else "bench_growth"
    table.to_csv(out / f"{name}.csv", index=False)
    fitted = slopes(table)
    plot(table, fitted, out / f"{name}.png")

    text = (
        f"# bench_growth ({datetime.date.today()})\n\n"
        f"Machine: {machine()}, float32. bayesrl, bandit2arm_delta, 4 chains x ({args.warmup} + {args.samples}) "
        "on 4 host devices, synthetic data (bench_peers.py's generator); the second fit in each fresh process "
        "(compiled). `s_per_ess`: wall seconds per min bulk ESS; `ns_per_trial_step`: wall x cores per "
        "(iteration x leapfrog steps per draw x trial).\n\n"
        + markdown(table.round(4))
        + "\n\nLog-log slopes against size: "
        + ", ".join(f"{col} vs {axis}: {s:.2f}" for (axis, col), s in fitted.items())
        + "\n"
    )
    (out / f"{name}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
