"""Throughput of batched simulation studies: many same-shaped data sets in one compiled program.

Simulation-based calibration (``brl.validate.sbc``) fits every simulated data set with NUTS
``vmap``-ped over (data set, chain) lanes (:mod:`bayesrl._batch`). This script fits the same
``--datasets`` SBC data sets of ``rescorla_wagner`` (8 participants x 40 trials, 2 chains x
(150 + 150), the sizes of the SBC figure) three ways and reports data sets per minute:

- ``one by one``: ``brl.fit`` per data set (default chain layout, the compiled sampler reused from
  the second data set on: same shapes, data passed as arguments);
- ``batched, batch_size=B``: ``brl.validate.sbc(..., batch_size=B)`` for each ``B`` in
  ``--batch-sizes`` (the whole study in one call, one compiled program per batch size).

Each timing includes compilation (a user's first run); ``--repeat`` runs each a second time in
the same process (compiled). Writes ``bench_batch.md``/``.csv``.

    python benchmarks/bench_batch.py --out benchmarks/results [--datasets 32] [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import markdown  # noqa: E402


def one_by_one(model, task, n_participants, n_datasets, settings, seed):
    """``brl.fit`` on each SBC-style data set (group values drawn from the prior)."""
    import bayesrl as brl

    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    for k in range(n_datasets):
        group = {}
        for p in model.param_names:
            group[f"{p}_mu"] = float(rng.normal(0.0, 1.0))
            group[f"{p}_sigma"] = float(abs(rng.normal(0.0, 0.2)))
        table = brl.simulate(model, group=group, n_participants=n_participants, task=task, seed=seed + k)
        brl.fit(model, table, seed=k, progress_bar=False, check=False, **settings)
    return time.perf_counter() - t0


def batched(model, task, n_participants, n_datasets, settings, seed, batch_size):
    import bayesrl as brl

    t0 = time.perf_counter()
    brl.validate.sbc(
        model, task, n_participants, n_simulations=n_datasets, n_draws=49, seed=seed, batch_size=batch_size,
        progress=False, **settings,
    )  # fmt: skip
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--datasets", type=int, default=32)
    ap.add_argument("--batch-sizes", default="8,32")
    ap.add_argument("--repeat", action="store_true", help="time each way a second time (compiled)")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)

    import jax

    import bayesrl as brl

    model = brl.models.rescorla_wagner()
    task = brl.tasks.bandit(brl.tasks.reversal_schedule([0.8, 0.2], n_trials=40, every=20))
    settings = dict(num_warmup=150, num_samples=150, num_chains=2)
    n, sizes = args.datasets, [int(b) for b in args.batch_sizes.split(",")]
    if args.quick:
        settings, n, sizes = dict(num_warmup=30, num_samples=30, num_chains=2), 4, [4]
    rows = []
    ways = [("one by one", lambda: one_by_one(model, task, 8, n, settings, 0))]
    ways += [(f"batched, batch_size={b}", lambda b=b: batched(model, task, 8, n, settings, 0, b)) for b in sizes]
    for name, run in ways:
        for call in ("first", "second") if args.repeat else ("first",):
            seconds = run()
            rows.append(
                {"way": name, "call": call, "datasets": n, "seconds": seconds, "datasets_per_min": 60 * n / seconds}
            )
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = "bench_batch_quick" if args.quick else "bench_batch"
    table.to_csv(out / f"{name}.csv", index=False)
    show = table.round(2)
    text = (
        f"# bench_batch ({datetime.date.today()})\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, backend {jax.default_backend()}, Python "
        f"{platform.python_version()}, jax {jax.__version__}, float32. {n} data sets of rescorla_wagner, 8 "
        f"participants x 40 trials, {settings['num_chains']} chains x ({settings['num_warmup']} + "
        f"{settings['num_samples']}); `first` includes compilation.\n\n" + markdown(show) + "\n"
    )
    (out / f"{name}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
