"""Fit Rescorla-Wagner to the shipped two-armed bandit data and check what it recovers.

The data (20 participants x 100 trials) were simulated by bayesrl itself, so each
participant's generating ``alpha`` and ``beta`` are known (columns ``true_alpha`` and
``true_beta``); the script compares them with the posterior means.

Usage::

    python examples/fit_bandit2arm.py --out output
    python examples/fit_bandit2arm.py --out output --num-warmup 200 --num-samples 200 --num-chains 2

Writes ``OUT/fit.nc`` (open it with ``brl.load_fit``), ``OUT/learning_curve.png`` (posterior
predictive learning curve) and ``OUT/participants_alpha.png`` (per-participant forest plot
with the true values marked).
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("MPLBACKEND", "Agg")  # write files; no window needed

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import bayesrl as brl  # noqa: E402  (first JAX user: lets the chains run on parallel CPU devices)
from bayesrl import plots  # noqa: E402


def recovery(participants: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Correlation and error of posterior means against the generating values.

    Parameters
    ----------
    participants : pandas.DataFrame
        ``fit.participants()``, indexed by participant.
    truth : pandas.DataFrame
        Indexed by participant, one column per parameter.

    Returns
    -------
    pandas.DataFrame
        One row per parameter: ``pearson_r``, ``spearman_r``, ``mean_abs_error`` and the share
        of true values inside the 94% HDI (``hdi_coverage``).
    """
    rows = {}
    for p in truth.columns:
        est = participants[f"{p}_mean"]
        true = truth[p].reindex(participants.index)
        inside = (participants[f"{p}_hdi_lower"] <= true) & (true <= participants[f"{p}_hdi_upper"])
        rows[p] = {
            "pearson_r": np.corrcoef(est, true)[0, 1],
            "spearman_r": est.rank().corr(true.rank()),
            "mean_abs_error": (est - true).abs().mean(),
            "hdi_coverage": inside.mean(),
        }
    return pd.DataFrame(rows).T.rename_axis("parameter")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="output", help="folder for fit.nc and the figures (default: output)")
    parser.add_argument("--num-warmup", type=int, default=1000)
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--num-chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="hide the sampler's progress bar")
    args = parser.parse_args(argv)

    import matplotlib.pyplot as plt

    df = brl.datasets.load("bandit2arm")
    n_p = df["participant"].nunique()
    print(f"bandit2arm: {n_p} participants, {len(df)} trials")

    model = brl.models.rescorla_wagner(n_options=2)
    fit = brl.fit(
        model,
        df,
        num_warmup=args.num_warmup,
        num_samples=args.num_samples,
        num_chains=args.num_chains,
        seed=args.seed,
        progress_bar=not args.no_progress,
        check=False,  # printed below instead of raised as warnings
    )
    print(fit)

    with pd.option_context("display.width", 200, "display.max_columns", None, "display.max_rows", None):
        print("\nGroup-level summary")
        print(fit.summary().round(3).to_string())
        print("\nDiagnostics")
        print(fit.diagnostics(warn=False))
        participants = fit.participants()
        print("\nParticipants (posterior mean, sd, 94% HDI)")
        print(participants.round(3).to_string())

        truth = df.groupby("participant")[["true_alpha", "true_beta"]].first()
        truth.columns = [c.removeprefix("true_") for c in truth.columns]
        print("\nRecovery: posterior means against the generating values")
        print(recovery(participants, truth).round(3).to_string())

    os.makedirs(args.out, exist_ok=True)
    fit_path = os.path.join(args.out, "fit.nc")
    fit.save(fit_path)

    ax = plots.plot_learning_curve(fit)
    curve_path = os.path.join(args.out, "learning_curve.png")
    ax.figure.savefig(curve_path, dpi=120)
    plt.close(ax.figure)

    ax = plots.plot_participants(fit, "alpha", true_values=truth["alpha"])
    forest_path = os.path.join(args.out, "participants_alpha.png")
    ax.figure.savefig(forest_path, dpi=120)
    plt.close(ax.figure)

    print(f"\nwrote {fit_path}, {curve_path}, {forest_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
