"""Centred or non-centred: what ``centered="auto"`` chooses, against fits both ways.

For each workload (``bench_peers.py``'s: hBayesDM's 2-armed example, ``PxT`` synthetic
``bandit2arm_delta`` data, ``bandit4arm`` and ``twostep`` hBayesDM's examples; ``shipped`` for
bayesrl's own example; ``4armPxT`` synthetic ``bandit4arm_4par`` data), in one process:

- each parameter's score (``bayesrl._centering.centering_scores``: the non-centred form's
  expected autocorrelation; above ``THRESHOLD`` = 2/3 it is centred) and what ``"auto"`` picks,
  with the seconds the choice took (compilation included: the first workload's pays for the
  process's first float64 compile);
- fits (4 chains x (1000 + 1000), float32, chains on 4 host devices) with every parameter
  non-centred (``none``), every parameter centred (``all``) and, when it differs from both, the
  choice (``auto``): wall time, divergences, leapfrog steps, the min bulk ESS over every scalar
  and each group parameter's own (``p_mu``, ``p_sigma``), min-ESS/s.

ESS varies over seeds by 20-40%, so with one seed (``--seeds 1``) a ratio between about 0.8 and
1.25 is a tie; ``--seeds 1,2,3`` gives medians and ranges over seeds. Each shape and
parameterisation is fitted once (seed 0, not recorded) before the timed fits, so wall times are
sampling, not compilation (``--no-warm`` skips that).

    python benchmarks/bench_centering.py --workloads example,shipped,20x200,50x200,100x100,100x150,200x100,200x200
    python benchmarks/bench_centering.py --hbayesdm <sdist> --seeds 1,2,3 \
        --workloads example,20x200,50x200,100x150,200x100,200x200,bandit4arm,twostep
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _report import machine, markdown  # noqa: E402
from bench_peers import call_bayesrl, ess_over_scalars, workload_model, workload_table  # noqa: E402

SETTINGS = dict(num_warmup=1000, num_samples=1000, num_chains=4)


def table_of(workload: str, hbayesdm: str | None, seed: int) -> pd.DataFrame:
    """The workload's table; synthetic ``PxT`` data are drawn anew for each seed (seed 1: ``bench_peers``'s)."""
    import bayesrl as brl

    if workload == "shipped":
        return brl.datasets.load("bandit2arm")
    if workload.startswith("4arm"):  # synthetic bandit4arm_4par data, gain/loss probabilities drifting
        n_p, n_t = (int(x) for x in workload[len("4arm") :].split("x"))
        walk = dict(sd=0.05, lower=0.1, upper=0.9)
        task = brl.tasks.gain_loss_bandit(
            brl.tasks.random_walk_probabilities(n_t, 4, seed=1, **walk),
            brl.tasks.random_walk_probabilities(n_t, 4, seed=2, **walk),
        )
        group = {"Arew_mu": -0.5, "Arew_sigma": 0.5, "Apun_mu": -0.5, "Apun_sigma": 0.5}
        group |= {"R_mu": -1.2, "R_sigma": 0.4, "P_mu": -1.2, "P_sigma": 0.4}
        model = brl.models.bandit4arm_4par()
        return brl.simulate(model, group=group, n_participants=n_p, task=task, seed=6 + seed)
    return workload_table(workload, hbayesdm, data_seed=6 + seed)


def model_of(workload: str) -> str:
    """The model fitted to ``workload``: ``4armPxT`` synthetic 4-armed data, else ``bench_peers``' choice."""
    return "bandit4arm_4par" if workload.startswith("4arm") else workload_model(workload)


def one_fit(model, table, centered, seed, settings) -> dict:
    """One ``brl.fit`` (``bench_peers.call_bayesrl``): its figures and each group parameter's bulk ESS."""
    wall, draws, divergences, steps = call_bayesrl(table, settings, seed, model.name, centered)
    bulk, _ = ess_over_scalars(draws)
    row = {
        "wall_s": round(wall, 1),
        "divergences": divergences,
        "leapfrog_steps": round(steps, 1),
        "min_bulk_ess": round(float(bulk.min()), 0),
        "min_ess_per_s": round(float(bulk.min()) / wall, 1),
    }
    for p in model.param_names:
        for s in ("mu", "sigma"):
            row[f"{p}_{s}_ess"] = round(float(ess_over_scalars({"x": draws[f"{p}_{s}"]})[0][0]), 0)
    return row


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Per workload and parameterisation: median min-ESS/s over seeds [min, max], divergences, and auto / none.

    ``auto / none`` is the median over seeds of the paired ratio of min-ESS/s (the same data
    set and seed), with its range; where auto chose ``none`` or ``all`` that fit is its fit.
    """
    rows = []
    for workload, sub in frame.groupby("workload", sort=False):
        per_seed = {}
        for seed, one in sub.groupby("seed"):
            by_fit = one.set_index("fit")["min_ess_per_s"]
            auto = one["auto_fit"].iloc[0]
            per_seed[seed] = by_fit[auto] / by_fit["none"]
        ratios = np.array(list(per_seed.values()))
        for fit, one in sub.groupby("fit", sort=False):
            v = one["min_ess_per_s"]
            rows.append(
                {
                    "workload": workload,
                    "model": one["model"].iloc[0],
                    "scores": one["scores"].iloc[0],
                    "auto centres": " / ".join(dict.fromkeys(sub["auto"])),
                    "seeds": len(one),
                    "fit": fit,
                    "min-ESS/s": f"{v.median():.1f} [{v.min():.1f}, {v.max():.1f}]",
                    "divergences": int(one["divergences"].sum()),
                    "auto / none": f"{np.median(ratios):.2f} [{ratios.min():.2f}, {ratios.max():.2f}]",
                    "choice (s)": float(one["choose_s"].median()),
                }
            )
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default="example,shipped,20x200,50x200,100x100,100x150,200x100,200x200")
    ap.add_argument("--seeds", default="1", help="comma-separated; each draws new synthetic data and new chains")
    ap.add_argument(
        "--no-warm", dest="warm", action="store_false", help="do not fit each shape and form once before timing"
    )
    ap.add_argument("--quick", action="store_true", help="100 + 100 draws: check the script runs")
    ap.add_argument("--hbayesdm", default=None, help="an unpacked hBayesDM sdist (else fetched with pip)")
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--name", default="bench_centering")
    args = ap.parse_args(argv)

    import bayesrl as brl
    from bayesrl import data as data_mod
    from bayesrl._centering import THRESHOLD, choose_centered
    from bayesrl.hierarchy import resolve_priors

    settings = dict(num_warmup=100, num_samples=100, num_chains=4) if args.quick else SETTINGS
    seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
    rows, warmed = [], set()
    for workload in [w.strip() for w in args.workloads.split(",") if w.strip()]:
        model = brl.models.get(model_of(workload))()
        for seed in seeds:
            table = table_of(workload, args.hbayesdm, seed)
            trials = data_mod.prepare(table, model).trials(model)
            t0 = time.perf_counter()
            chosen, scores = choose_centered(model, trials, resolve_priors(model, None))
            choose_s = time.perf_counter() - t0
            auto = tuple(p for p in model.param_names if p in chosen)
            shape = f"{trials.valid.shape[0]} x {trials.valid.shape[1]}"
            fits = {"none": (), "all": tuple(model.param_names)}
            auto_fit = next((label for label, c in fits.items() if c == auto), "auto")
            if auto_fit == "auto":
                fits["auto"] = auto
            base = {
                "workload": f"{workload} ({shape})",
                "model": model.name,
                "seed": seed,
                "scores": ", ".join(f"{p} {s:.2f}" for p, s in scores.items()),
                "auto": ",".join(auto) or "-",
                "auto_fit": auto_fit,
                "choose_s": round(choose_s, 1),
            }
            for label, centered in fits.items():
                if args.warm and (workload, centered) not in warmed:  # compile this shape and form first
                    one_fit(model, table, centered, 0, settings)
                    warmed.add((workload, centered))
                row = {**base, "fit": label, **one_fit(model, table, centered, seed, settings)}
                rows.append(row)
                print(row, flush=True)
    frame = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = args.name + ("_quick" if args.quick else "")
    frame.to_csv(out / f"{name}.csv", index=False)
    summary = summarise(frame)
    header = (
        f"# bench_centering ({datetime.date.today()})\n\nMachine: {machine()}; float32, 4 chains on 4 host devices; "
        f"settings {settings}, seeds {seeds} (each: new synthetic data where the workload is synthetic, new "
        f"chains), one fit each. `scores`: the non-centred form's expected autocorrelation "
        f'(`bayesrl._centering.centering_scores`, seed {seeds[0]}), centred by `centered="auto"` above '
        f"{THRESHOLD:.3f}. `fit`: every parameter non-centred (`none`), centred (`all`), or auto's choice "
        "where it is neither. min-ESS/s: min bulk ESS over every scalar per second of the fit (the first "
        "fit of each shape and parameterisation includes compilation unless a warm-up fit ran first: "
        f"{'it did' if args.warm else 'it did not'}), median [min, max] over seeds; "
        "`auto / none`: the paired ratio for auto's choice, median [min, max] over seeds.\n\n"
    )
    (out / f"{name}.md").write_text(header + markdown(summary) + "\n\n## Every fit\n\n" + markdown(frame) + "\n")
    print(header + markdown(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
