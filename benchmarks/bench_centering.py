"""Centred or non-centred: what ``centered="auto"`` chooses, against fits both ways.

For each workload (``bench_peers.py``'s: hBayesDM's 2-armed example, ``PxT`` synthetic
``bandit2arm_delta`` data, ``shipped`` for bayesrl's own example), in one process:

- each parameter's score (``bayesrl._centering.centering_scores``: the non-centred form's
  expected autocorrelation; above ``THRESHOLD`` = 2/3 it is centred) and what ``"auto"`` picks,
  with the seconds the choice took (compilation included: the first workload's pays for the
  process's first float64 compile);
- fits (4 chains x (1000 + 1000), float32, chains on 4 host devices) with every parameter
  non-centred (``none``), every parameter centred (``all``) and, when it differs from both, the
  choice (``auto``): wall time, divergences, leapfrog steps, the min bulk ESS over every scalar
  and each group parameter's own (``p_mu``, ``p_sigma``), min-ESS/s.

Measured on one seed per workload: ESS varies over seeds by 20-40%, so a ratio between about
0.8 and 1.25 is a tie. The persistent compilation cache is on (bayesrl's default), so a fit's
wall time is mostly sampling after the first fit of each parameterisation and shape.

    python benchmarks/bench_centering.py --workloads example,shipped,20x200,50x200,100x100,100x150,200x100,200x200
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _report import machine, markdown  # noqa: E402
from bench_peers import call_bayesrl, ess_over_scalars, workload_table  # noqa: E402

SETTINGS = dict(num_warmup=1000, num_samples=1000, num_chains=4)


def table_of(workload: str, hbayesdm: str | None) -> pd.DataFrame:
    import bayesrl as brl

    if workload == "shipped":
        return brl.datasets.load("bandit2arm")
    return workload_table(workload, hbayesdm)


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default="example,shipped,20x200,50x200,100x100,100x150,200x100,200x200")
    ap.add_argument("--seed", type=int, default=1)
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
    model = brl.models.bandit2arm_delta()
    rows = []
    for workload in [w.strip() for w in args.workloads.split(",") if w.strip()]:
        table = table_of(workload, args.hbayesdm)
        trials = data_mod.prepare(table, model).trials(model)
        t0 = time.perf_counter()
        chosen, scores = choose_centered(model, trials, resolve_priors(model, None))
        choose_s = time.perf_counter() - t0
        auto = tuple(sorted(chosen))
        shape = f"{trials.valid.shape[0]} x {trials.valid.shape[1]}"
        base = {"workload": f"{workload} ({shape})", **{f"{p}_score": round(s, 3) for p, s in scores.items()}}
        base["auto"] = ",".join(auto) or "-"
        base["choose_s"] = round(choose_s, 1)
        fits = {"none": (), "all": tuple(model.param_names)}
        if auto not in fits.values():
            fits["auto"] = auto
        for label, centered in fits.items():
            row = {**base, "fit": label, **one_fit(model, table, centered, args.seed, settings)}
            rows.append(row)
            print(row, flush=True)
    frame = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = args.name + ("_quick" if args.quick else "")
    frame.to_csv(out / f"{name}.csv", index=False)
    header = (
        f"# bench_centering ({datetime.date.today()})\n\nMachine: {machine()}; float32, 4 chains on 4 host devices; "
        f"settings {settings}, seed {args.seed}, one fit each. `*_score`: the non-centred form's expected "
        f'autocorrelation (`bayesrl._centering.centering_scores`), centred by `centered="auto"` above '
        f"{THRESHOLD:.3f}; `choose_s`: the choice's seconds. `fit`: every parameter non-centred (`none`), "
        "centred (`all`), or auto's choice where it is neither. ESS: bulk; `min_bulk_ess` over every scalar.\n\n"
    )
    (out / f"{name}.md").write_text(header + markdown(frame) + "\n")
    print(header + markdown(frame))
    return 0


if __name__ == "__main__":
    sys.exit(main())
