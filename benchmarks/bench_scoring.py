"""The cost of scoring the choices alone: three ways to compute ``log_softmax(logits)[choice]``.

The likelihood ends in one score per choice, ``log_softmax(logits)[choice]`` summed over the
valid trials. This script times the value and gradient of that sum alone, on random logits of a
given shape (``participant x trial[ x stage] x option``), inside a compiled loop as NUTS runs it
(``_timing.in_loop``: one chain), three ways:

- ``numpyro``: NumPyro's ``Categorical(logits=...).log_prob`` (``logits - logsumexp(logits)``
  and a gather), what a hand-written model uses;
- ``log_softmax``: ``jax.nn.log_softmax`` and a gather;
- ``bayesrl``: :func:`bayesrl.engine.chosen_log_softmax`, option by option up to
  ``engine.UNROLL_OPTIONS`` options (``log_softmax`` and a gather beyond).

It chose ``UNROLL_OPTIONS`` (``benchmarks/README.md``, "Scoring option by option")::

    python benchmarks/bench_scoring.py --out benchmarks/results [--x64]

It writes ``bench_scoring.md``/``.csv``: microseconds per gradient for each form and shape, and
bayesrl's ratio to the faster of the other two.
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
from _report import machine, markdown  # noqa: E402
from _timing import in_loop  # noqa: E402

SHAPES = "20x100x2,200x200x2,10x200x4,11x200x2x4,50x200x3,50x200x4,50x200x5,50x200x6,50x200x8,50x200x16"


def forms():
    """``{name: score(logits, choice) -> (...)}``, the three ways to score a choice."""
    import jax
    import jax.numpy as jnp
    import numpyro.distributions as dist

    from bayesrl import engine

    def gathered(logp, choice):
        return jnp.take_along_axis(logp, choice[..., None], axis=-1)[..., 0]

    return {
        "numpyro": lambda lg, c: dist.Categorical(logits=lg).log_prob(c),
        "log_softmax": lambda lg, c: gathered(jax.nn.log_softmax(lg, axis=-1), c),
        "bayesrl": engine.chosen_log_softmax,
    }


def measure(shapes, reps, seed=0) -> pd.DataFrame:
    """One row per shape: us per value-and-gradient of each form's masked sum."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(seed)
    rows = []
    for shape in shapes:
        dtype = jnp.result_type(float)
        logits = jnp.asarray(rng.normal(size=shape), dtype)
        choice = jnp.asarray(rng.integers(0, shape[-1], size=shape[:-1]))
        valid = jnp.asarray(rng.random(shape[:-1]) < 0.95)
        row = {"shape": " x ".join(map(str, shape)), "options": shape[-1]}
        values = {}
        for name, score in forms().items():

            def potential(scale, lg, score=score, choice=choice, valid=valid):
                return -jnp.where(valid, score(lg * scale[0], choice), 0.0).sum()

            f = jax.value_and_grad(potential)
            values[name] = float(f(jnp.ones(1, dtype), logits)[0])
            row[f"{name}_us"] = in_loop(f, jnp.ones(1, dtype), logits, reps) * 1e6
        if not np.allclose(list(values.values()), values["numpyro"], rtol=1e-4):
            raise AssertionError(f"the forms disagree at {shape}: {values}")
        row["bayesrl_over_best_other"] = row["bayesrl_us"] / min(row["numpyro_us"], row["log_softmax_us"])
        rows.append(row)
        print({k: (round(v, 2) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--shapes", default=SHAPES, help="comma-separated, each dimensions joined by x, options last")
    ap.add_argument("--x64", action="store_true", help="float64 (default float32)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--name", default="bench_scoring", help="stem of the files written to --out")
    args = ap.parse_args(argv)

    import jax

    import bayesrl  # noqa: F401  (before JAX starts)
    from bayesrl import engine

    jax.config.update("jax_enable_x64", args.x64)
    shapes = [tuple(int(d) for d in item.split("x")) for item in args.shapes.split(",") if item.strip()]
    table = measure(shapes, args.reps)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / f"{args.name}.csv", index=False)
    text = (
        f"# bench_scoring ({datetime.date.today()})\n\n"
        f"Machine: {machine()}, float{'64' if args.x64 else '32'}, `engine.UNROLL_OPTIONS` = "
        f"{engine.UNROLL_OPTIONS}. Value and gradient of the masked sum of `log_softmax(logits)[choice]` "
        f"over random logits of each shape, inside a compiled loop, one chain (median of {args.reps}), "
        "us: NumPyro's `Categorical`, `jax.nn.log_softmax` and a gather, and bayesrl's "
        "`engine.chosen_log_softmax`.\n\n" + markdown(table) + "\n"
    )
    (out / f"{args.name}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
