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
