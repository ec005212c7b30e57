"""Report helpers shared by the benchmark scripts."""

from __future__ import annotations

import os
import platform

import pandas as pd


def machine() -> str:
    """``"x86_64, 2 CPU cores, Python 3.11.7, jax 0.10.2"``: the machine line of every table's header."""
    import jax

    return (
        f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, jax {jax.__version__}"
    )


def markdown(table: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (missing values left empty)."""
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += [
        "| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |" for row in table.itertuples(index=False)
    ]
    return "\n".join(lines)


def parse_size(item: str) -> tuple[int, int]:
    """``"20x100"`` -> ``(20, 100)``: participants x trials (a ``--sizes`` item)."""
    try:
        n_p, n_t = (int(v) for v in item.strip().lower().split("x"))
    except ValueError:
        raise SystemExit(f"--sizes: {item!r} is not PARTICIPANTSxTRIALS (e.g. 20x100)") from None
    return n_p, n_t
