"""The registry of model test cases: every library model gets the generic tests for free.

A case says how to build the model, a ragged test table in the model's own column format
(missing choices, unequal trial counts, blocks), a task to simulate it, and an independent
plain-NumPy oracle for one participant's per-trial log-likelihood. Model families register
their cases in ``tests/cases_<family>.py``; this module imports them all.
"""

from __future__ import annotations

import importlib
import pathlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Case:
    make_model: Callable  # () -> bayesrl.Model
    make_table: Callable  # (rng) -> pandas.DataFrame (long format, hBayesDM column names welcome)
    make_task: Callable  # () -> bayesrl.tasks.Task matching make_model()
    oracle: Callable  # (model, p: dict[str, float], arrays: dict[str, (trial,) array]) -> (trial,) log-lik


CASES: dict[str, Case] = {}


def register_case(name: str, case: Case) -> None:
    CASES[name] = case


def log_softmax(x):
    x = np.asarray(x, dtype=float)
    m = x.max()
    return x - m - np.log(np.exp(x - m).sum())


def ragged_table(rng, columns: dict, n_options: int, n_participants: int = 4, choice_base: int = 1, p_missing=0.1):
    """A shuffled long table: participants with 30, 37, 44... trials, two blocks each,
    ~10% missing choices (their other columns missing too), string ids.

    ``columns`` maps a column name to ``f(rng) -> value`` for one trial.
    """
    rows = []
    for i in range(n_participants):
        n_t = 30 + 7 * i
        for t in range(n_t):
            row = {"subjID": f"s{i:02d}", "trial": t + 1, "block": 1 + (t >= n_t // 2)}
            row["choice"] = int(rng.integers(0, n_options)) + choice_base
            row.update({c: f(rng) for c, f in columns.items()})
            if rng.random() < p_missing:
                row = {k: (np.nan if k in ("choice", *columns) else v) for k, v in row.items()}
            rows.append(row)
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=1)
    seen = set(df["choice"].dropna().astype(int))
    assert seen == set(range(choice_base, choice_base + n_options)), "every option must appear"
    return df


def oracle_log_likelihood(case: Case, model, params: dict, arrays: dict) -> np.ndarray:
    """Run the case's oracle for every participant: (participant, trial)."""
    n_p = arrays["choice"].shape[0]
    rows = []
    for i in range(n_p):
        p = {k: float(np.asarray(v)[i]) for k, v in params.items()}
        rows.append(np.asarray(case.oracle(model, p, {k: v[i] for k, v in arrays.items()}), dtype=float))
    return np.stack(rows)


for _path in sorted(pathlib.Path(__file__).parent.glob("cases_*.py")):
    importlib.import_module(_path.stem)
