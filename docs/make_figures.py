"""Draw the example figures in docs/figures/ from the shipped example data.

Usage::

    python docs/make_figures.py                       # writes docs/figures/*.png
    python docs/make_figures.py --only sbc calibration  # some of them

Fits ``rescorla_wagner`` to ``brl.datasets.load("bandit2arm")`` (20 participants x 100
trials, simulated by bayesrl with known parameters) and draws every figure of
:mod:`bayesrl.plots`; the model recovery and SBC figures simulate the example's design
(two-armed bandit paying +1 with probability 0.7 / 0.3, else -1, 100 trials).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib.pyplot as plt  # noqa: E402

import bayesrl as brl  # noqa: E402
from bayesrl import plots  # noqa: E402
from bayesrl.validate import model_recovery, sbc  # noqa: E402

DPI = 100
TASK = brl.tasks.bandit([0.7, 0.3], n_trials=100, reward=1.0, no_reward=-1.0)  # the example's design


def save(ax, path: Path) -> None:
    """Write the figure of ``ax`` (an Axes or an array of them) and close it."""
    figure = (ax.ravel()[0] if hasattr(ax, "ravel") else ax).figure
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    print(f"wrote {path} ({path.stat().st_size // 1024} kB)", flush=True)


def main(argv=None) -> None:
    """Fit the example, run the validation tools and draw every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "figures"))
    parser.add_argument("--only", nargs="*", help="figure names to draw (default: all)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    wanted = set(args.only or [])

    def want(name):
        return not wanted or name in wanted

    df = brl.datasets.load("bandit2arm")
    fit_figures = {"learning_curve", "learning_curve_generative", "participant_curves", "calibration"}
    fit_figures |= {"participants", "group", "trace", "rank"}
    if not wanted or wanted & fit_figures:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fit = brl.fit(
                brl.models.rescorla_wagner(),
                df,
                num_warmup=500,
                num_samples=500,
                num_chains=2,
                seed=0,
                progress_bar=False,
            )
        print(f"fit: {time.perf_counter() - start:.0f} s", flush=True)
    if want("learning_curve"):
        ppc = fit.posterior_predictive("one_step", num_draws=200, seed=0)
        save(plots.plot_learning_curve(fit, ppc=ppc), out / "learning_curve.png")
    if want("learning_curve_generative"):
        ppc = fit.posterior_predictive("generative", num_draws=200, seed=0, task=TASK)
        save(plots.plot_learning_curve(fit, ppc=ppc), out / "learning_curve_generative.png")
    if want("participant_curves"):
        save(plots.plot_participant_curves(fit, participants=list(range(1, 9))), out / "participant_curves.png")
    if want("calibration"):
        save(plots.plot_calibration(fit), out / "calibration.png")
    if want("participants"):
        truth = df.groupby("participant")["true_alpha"].first()
        save(plots.plot_participants(fit, "alpha", true_values=truth), out / "participants_alpha.png")
    if want("group"):
        save(plots.plot_group(fit), out / "group.png")
    if want("trace"):
        save(plots.plot_trace(fit), out / "trace.png")
    if want("rank"):
        save(plots.plot_rank(fit), out / "rank.png")
    if want("model_recovery"):
        start = time.perf_counter()
        rw_group = {"alpha_mu": -0.3, "alpha_sigma": 0.3, "beta_mu": 0.3, "beta_sigma": 0.3}
        result = model_recovery(
            {"rw": brl.models.rescorla_wagner(), "rw_sticky": brl.models.rescorla_wagner_perseveration()},
            TASK,
            {"rw": rw_group, "rw_sticky": {**rw_group, "kappa_mu": 1.0, "kappa_sigma": 0.3}},
            10,
            n_datasets=4,
            num_warmup=200,
            num_samples=200,
            num_chains=2,
        )
        print(f"model recovery: {time.perf_counter() - start:.0f} s\n{result.counts}", flush=True)
        fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8), layout="constrained")
        plots.plot_model_recovery(result, "confusion", ax=axes[0])
        plots.plot_model_recovery(result, "inversion", ax=axes[1])
        save(axes, out / "model_recovery.png")
    if want("sbc"):
        start = time.perf_counter()
        result = sbc(
            brl.models.rescorla_wagner(),
            brl.tasks.bandit([0.7, 0.3], n_trials=40, reward=1.0, no_reward=-1.0),
            8,
            n_simulations=100,
            n_draws=39,
            num_warmup=150,
            num_samples=150,
            num_chains=2,
            batch_size=20,
        )
        print(f"SBC: {time.perf_counter() - start:.0f} s\n{result.test}", flush=True)
        save(plots.plot_sbc(result), out / "sbc.png")


if __name__ == "__main__":
    main()
