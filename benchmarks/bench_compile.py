"""Compilation reuse: does a fit of a new, same-shaped data set compile anything?

Three fresh Python processes share one empty JAX compilation cache (a private temporary
folder) and each fits ``rescorla_wagner`` once:

1. ``cold``: the shipped example (20 participants x 100 trials), nothing cached;
2. ``same shape``: the example with its choices and outcomes shuffled (same participants and
   trial counts, other values);
3. ``97 trials``: the example's first 97 trials per participant, a slightly different data set
   that trial-count bucketing pads back to 100 trials (``brl.fit(..., bucket_trials=True)``);
4. ``all cached``: the example again, whose every program is now cached.

``same shape`` (or ``97 trials``) minus ``all cached`` is what a new data set of the same
(or a nearby) shape costs in compilation (target: under 2 s); ``cold`` minus ``all cached``
is the full compilation.
The table counts the cache entries each process added (0 for a full hit). Writes
``results/bench_compile.md`` and ``.csv``.

    python benchmarks/bench_compile.py --out benchmarks/results [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = ("cold", "same shape", "97 trials", "all cached")


def one_fit(case: str, draws: int) -> dict:
    """Fit in this process; the seconds of the whole ``brl.fit`` call."""
    import numpy as np

    import bayesrl as brl

    df = brl.datasets.load("bandit2arm")
    if case == "same shape":
        rng = np.random.default_rng(5)
        df = df.copy()
        df["choice"] = rng.permutation(df["choice"].to_numpy())
        df["outcome"] = rng.permutation(df["outcome"].to_numpy())
    elif case == "97 trials":
        df = df[df["trial"] <= 97]
    start = time.perf_counter()
    fit = brl.fit(
        brl.models.rescorla_wagner(), df, num_warmup=draws, num_samples=draws, seed=1, progress_bar=False, check=False
    )
    seconds = time.perf_counter() - start
    import jax

    return {
        "seconds": seconds,
        "trials": int(fit.data.max_trials),
        "padded_trials": fit.metadata["sampler"]["padded_trials"],
        "chain_method": fit.metadata["sampler"]["chain_method"],
        "precision": "float64" if jax.config.jax_enable_x64 else "float32",
        "jax": jax.__version__,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--draws", type=int, default=1000, help="warm-up iterations and draws per chain (4 chains)")
    ap.add_argument("--quick", action="store_true", help="50 + 50 draws, results/bench_compile_quick.*")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    draws = 50 if args.quick else args.draws
    if args.child:
        print(json.dumps(one_fit(args.child, draws)), flush=True)
        return 0

    import pandas as pd

    cache = tempfile.mkdtemp(prefix="bayesrl-bench-compile-")
    env = {**os.environ, "BAYESRL_CACHE_DIR": cache}
    rows = []
    for case in CASES:
        before = len(os.listdir(cache))
        out = subprocess.run(
            [sys.executable, __file__, "--child", case, "--draws", str(draws)],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        row = {"case": case, **json.loads(out.stdout.strip().splitlines()[-1])}
        row["new_cache_entries"] = len(os.listdir(cache)) - before
        rows.append(row)
        print(row, flush=True)
    table = pd.DataFrame(rows)
    cached = table.loc[table.case == "all cached", "seconds"].item()
    table["over_all_cached_s"] = table["seconds"] - cached
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = "_quick" if args.quick else ""
    table.to_csv(out_dir / f"bench_compile{suffix}.csv", index=False)
    cols = [
        "case", "trials", "padded_trials", "seconds", "over_all_cached_s", "new_cache_entries", "chain_method",
        "precision",
    ]  # fmt: skip
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in table[cols].itertuples(index=False):
        lines.append("| " + " | ".join(f"{v:.1f}" if isinstance(v, float) else str(v) for v in r) + " |")
    text = (
        f"# bench_compile ({datetime.date.today()})\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
        f"jax {rows[0]['jax']}. `rescorla_wagner` on the example (20 x 100), 4 chains x ({draws} + {draws}), "
        "each case a new process sharing one compilation cache that starts empty; seconds of the whole "
        "`brl.fit` call.\n\n" + "\n".join(lines) + "\n"
    )
    (out_dir / f"bench_compile{suffix}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
