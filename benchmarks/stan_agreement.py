"""Agreement with hBayesDM: our fits of hBayesDM's example data against reference Stan runs of its models.

For each model, the script fits hBayesDM's own example file twice: with hBayesDM's Stan program
(PyStan 3) and with ``bayesrl`` (NumPyro NUTS), and writes a table of the group-level posterior means
(``mu_<param>``: hBayesDM's natural-scale group location, ``<param>_group`` in bayesrl; and the
probit-scale ``mu_pr``/``sigma``) with their Monte Carlo standard errors.

hBayesDM is GPL-3: nothing of it is committed here. The script reads the Stan programs and example
files from hBayesDM's source distribution, which it fetches with ``pip download --no-deps
hbayesdm==1.1.1`` (or takes from ``--hbayesdm DIR``, an unpacked sdist). Stan 2.33+ dropped the old
array syntax that hBayesDM's programs use; the script rewrites those declarations
(``real x[N, T];`` -> ``array[N, T] real x;``) and leaves the rest of each program as it is.

Stan is not a dependency of bayesrl. To run::

    python -m venv /tmp/vstan && /tmp/vstan/bin/pip install pystan -e .
    /tmp/vstan/bin/python benchmarks/stan_agreement.py --out benchmarks/results

``--reference benchmarks/results/stan_reference.csv`` skips Stan and compares a new bayesrl run
with the committed reference numbers.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

# import the bayesrl of this checkout, not another installed copy
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HBAYESDM_VERSION = "1.1.1"

# model -> hBayesDM's example file for its task
MODELS = {
    "bandit2arm_delta": "bandit2arm_exampleData.txt",
    "prl_rp": "prl_exampleData.txt",
    "prl_fictitious": "prl_exampleData.txt",
    "bandit4arm_4par": "bandit4arm_exampleData.txt",
    "igt_pvl_delta": "igt_exampleData.txt",
    "gng_m1": "gng_exampleData.txt",
    "ts_par4": "ts_exampleData.txt",
}
IGT_PAYSCALE = 100  # hBayesDM's default ``payscale`` (igt_* models)
TS_TRANS_PROB = 0.7  # hBayesDM's default ``trans_prob`` (ts_* models)

_DECL = re.compile(
    r"^(?P<indent>\s*)(?P<type>(?:real|int|vector|row_vector|matrix|simplex)(?:<[^>;]*>)?(?:\[[^\]]*\])?)"
    r"\s+(?P<name>\w+)\[(?P<dims>[^\]]+)\](?P<rest>\s*(?:=[^;]*)?;)",
    re.MULTILINE,
)


def modern_stan(code: str) -> str:
    """Rewrite old array declarations to Stan 2.33 syntax and drop hBayesDM's ``#include`` line."""
    code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith("#include"))
    return _DECL.sub(lambda m: f"{m['indent']}array[{m['dims']}] {m['type']} {m['name']}{m['rest']}", code)


def hbayesdm_source(directory: str | None) -> Path:
    """Path of hBayesDM's package folder (``.../hbayesdm``) with ``common/stan_files`` and ``common/extdata``."""
    if directory is not None:
        root = Path(directory)
    else:
        cache = Path.home() / ".cache" / "bayesrl" / f"hbayesdm-{HBAYESDM_VERSION}"
        root = cache / f"hbayesdm-{HBAYESDM_VERSION}"
        if not root.exists():
            cache.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", "hbayesdm",
                 f"hbayesdm=={HBAYESDM_VERSION}", "-d", str(cache)],
                check=True,
            )  # fmt: skip
            with tarfile.open(next(cache.glob("hbayesdm-*.tar.gz"))) as tar:
                tar.extractall(cache, filter="data")
    package = root / "hbayesdm" if (root / "hbayesdm").exists() else root
    if not (package / "common" / "stan_files").exists():
        raise SystemExit(f"no common/stan_files under {package}: give --hbayesdm the unpacked sdist")
    return package


def stan_data(model: str, table: pd.DataFrame) -> dict:
    """The data dict hBayesDM's preprocessing gives its Stan program (participants in file order).

    As in hBayesDM: column names are matched ignoring case and underscores, rows with a missing
    value in a used column are dropped, participants are taken in order of first appearance, and
    the padding after a participant's last trial uses hBayesDM's fill values (never read by Stan).
    """
    table = table.rename(columns=lambda c: c.replace("_", "").lower())
    used = {
        "bandit4arm_4par": ["choice", "gain", "loss"],
        "igt_pvl_delta": ["choice", "gain", "loss"],
        "gng_m1": ["cue", "keypressed", "outcome"],
        "ts_par4": ["level1choice", "level2choice", "reward"],
    }.get(model, ["choice", "outcome"])
    table = table.dropna(subset=["subjid", *used])
    groups = [g for _, g in table.groupby("subjid", sort=False)]
    n, t_max = len(groups), max(len(g) for g in groups)
    t_subj = [len(g) for g in groups]

    def padded(column, fill, dtype, transform=lambda x: x):
        out = np.full((n, t_max), fill, dtype=dtype)
        for s, g in enumerate(groups):
            out[s, : len(g)] = transform(g[column].to_numpy())
        return out

    data = {"N": n, "T": t_max, "Tsubj": t_subj}
    if model == "bandit4arm_4par":
        data.update(rew=padded("gain", 0.0, float), los=padded("loss", 0.0, float, lambda x: -np.abs(x)))
        data["choice"] = padded("choice", -1, int)
    elif model == "igt_pvl_delta":
        net = np.zeros((n, t_max))
        for s, g in enumerate(groups):
            net[s, : len(g)] = g["gain"].to_numpy() - np.abs(g["loss"].to_numpy())
        data.update(choice=padded("choice", -1, int), outcome=net / IGT_PAYSCALE, sign_out=np.sign(net))
    elif model == "gng_m1":
        data.update(
            cue=padded("cue", 1, int), pressed=padded("keypressed", -1, int), outcome=padded("outcome", 0.0, float)
        )
    elif model == "ts_par4":
        data.update(
            level1_choice=padded("level1choice", 1, int), level2_choice=padded("level2choice", 1, int),
            reward=padded("reward", 0, int), trans_prob=TS_TRANS_PROB,
        )  # fmt: skip
    else:
        data.update(outcome=padded("outcome", 0.0, float), choice=padded("choice", -1, int))
    return data


def _mcse_mean(draws: np.ndarray) -> float:
    """Monte Carlo standard error of the mean of ``draws`` (chain, draw), via ArviZ."""
    import arviz as az

    mcse = az.mcse(np.asarray(draws)[None] if draws.ndim == 1 else np.asarray(draws), method="mean")
    return float(np.asarray(mcse).item())  # ArviZ gives shape (1,); NumPy 2.4's float() wants 0-d


def _rows(source: str, model: str, params: list[str], group, mu, sigma, seconds: float) -> list[dict]:
    rows = []
    for p in params:
        for quantity, draws in ((f"mu_{p}", group[p]), (f"mu_pr[{p}]", mu[p]), (f"sigma[{p}]", sigma[p])):
            rows.append({
                "model": model, "quantity": quantity, "source": source,
                "mean": float(np.mean(draws)), "sd": float(np.std(draws)), "mcse": _mcse_mean(draws),
                "seconds": seconds,
            })  # fmt: skip
    return rows


def _patient_stanc(seconds: float = 300) -> None:
    """Give Stan's compiler ``seconds``: httpstan allows it 1 s, too little on a loaded machine.

    httpstan runs in this process and calls ``subprocess.run(..., timeout=1)`` from its ``compile``
    module; that module alone gets a ``run`` with a longer timeout. PyStan's HTTP client also
    gives up on a build after aiohttp's default 5 minutes: no total limit here.
    """
    import subprocess
    import types

    import aiohttp.client
    import httpstan.compile

    aiohttp.client.DEFAULT_TIMEOUT = aiohttp.client.ClientTimeout(total=None, sock_connect=60)

    def run(*args, timeout=None, **kwargs):
        return subprocess.run(*args, timeout=max(timeout or 0, seconds), **kwargs)

    httpstan.compile.subprocess = types.SimpleNamespace(run=run)


def run_stan(model: str, package: Path, table: pd.DataFrame, params, args) -> list[dict]:
    import stan

    _patient_stanc()
    code = modern_stan((package / "common" / "stan_files" / f"{model}.stan").read_text())
    t0 = time.perf_counter()
    posterior = stan.build(code, data=stan_data(model, table), random_seed=args.seed)
    compiled = time.perf_counter()
    draws = posterior.sample(num_chains=args.chains, num_warmup=args.warmup, num_samples=args.samples)
    seconds = time.perf_counter() - compiled
    print(f"  stan {model}: compile {compiled - t0:.0f} s, sample {seconds:.0f} s", flush=True)

    def per_chain(name, index=None):
        # PyStan 3 gives (dims..., draws * chains) with the chain index varying fastest
        x = draws[name]
        x = x[index] if index is not None else x.reshape(-1)
        return x.reshape(-1, args.chains).T

    group = {p: per_chain(f"mu_{p}") for p in params}
    mu = {p: per_chain("mu_pr", i) for i, p in enumerate(params)}
    sigma = {p: per_chain("sigma", i) for i, p in enumerate(params)}
    return _rows("stan", model, params, group, mu, sigma, seconds)


def run_bayesrl(model: str, table: pd.DataFrame, params, args) -> list[dict]:
    import bayesrl as brl

    spec = brl.models.get(model)()
    t0 = time.perf_counter()
    fit = brl.fit(
        spec, table, num_warmup=args.warmup, num_samples=args.samples, num_chains=args.chains,
        seed=args.seed, progress_bar=False,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    print(f"  bayesrl {model}: {seconds:.0f} s", flush=True)
    post = fit.posterior
    group = {p: np.asarray(post[f"{p}_group"]) for p in params}
    mu = {p: np.asarray(post[f"{p}_mu"]) for p in params}
    sigma = {p: np.asarray(post[f"{p}_sigma"]) for p in params}
    return _rows("bayesrl", model, params, group, mu, sigma, seconds)


def compare(results: pd.DataFrame) -> pd.DataFrame:
    """One row per model and quantity: both means, the difference in posterior sds and in combined MCSEs."""
    wide = results.pivot_table(index=["model", "quantity"], columns="source", values=["mean", "sd", "mcse"], sort=False)
    out = pd.DataFrame({
        "stan_mean": wide[("mean", "stan")], "bayesrl_mean": wide[("mean", "bayesrl")],
        "stan_sd": wide[("sd", "stan")], "bayesrl_sd": wide[("sd", "bayesrl")],
    })  # fmt: skip
    diff = out["bayesrl_mean"] - out["stan_mean"]
    out["diff_over_sd"] = diff / out["stan_sd"]
    out["z_mcse"] = diff / np.hypot(wide[("mcse", "stan")], wide[("mcse", "bayesrl")])
    return out.reset_index()


def _markdown(table: pd.DataFrame, header: str) -> str:
    cols = list(table.columns)
    lines = [header, "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _settings(rows: pd.DataFrame, args) -> pd.DataFrame:
    return rows.assign(chains=args.chains, warmup=args.warmup, samples=args.samples)


def _merge(path: Path, new: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Write ``new`` to the CSV ``path``, keeping its earlier rows of models other than ``models``."""
    if path.exists():
        old = pd.read_csv(path)
        new = pd.concat([old[~old.model.isin(models)], new], ignore_index=True)
    new.to_csv(path, index=False)
    return new


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--hbayesdm", help="unpacked hBayesDM sdist (default: pip download into ~/.cache/bayesrl)")
    parser.add_argument("--reference", help="CSV of earlier Stan runs (skip Stan)")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--x64", action="store_true", help="fit bayesrl in float64")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args(argv)

    if args.x64:
        import jax

        jax.config.update("jax_enable_x64", True)
    import bayesrl as brl

    package = hbayesdm_source(args.hbayesdm)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    reference = pd.read_csv(args.reference) if args.reference else None
    rows = []
    for model in args.models:
        table = pd.read_csv(package / "common" / "extdata" / MODELS[model], sep="\t")
        params = list(brl.models.get(model)().params)
        if reference is None:
            stan_rows = run_stan(model, package, table, params, args)
            rows += stan_rows  # saved at once: a failed bayesrl fit does not lose a slow Stan run
            _merge(out / "stan_reference.csv", _settings(pd.DataFrame(stan_rows), args), [model])
        rows += run_bayesrl(model, table, params, args)
    results = _settings(pd.DataFrame(rows), args)
    if reference is not None:
        results = pd.concat([reference[reference.model.isin(args.models)], results], ignore_index=True)
    # models not run now keep their earlier rows (e.g. ``--models igt_pvl_delta`` adds to the committed table)
    results = _merge(out / "stan_agreement_runs.csv", results, args.models)
    table = compare(results)
    table.to_csv(out / "stan_agreement.csv", index=False)
    header = (
        f"# Agreement with hBayesDM {HBAYESDM_VERSION} (Stan) on its example data\n\n"
        f"`{' '.join(['python', *sys.argv])}`: {args.chains} chains x ({args.warmup} warm-up + {args.samples} draws) "
        f"each, seed {args.seed}, bayesrl in {'float64' if args.x64 else 'float32'} (models not in this run: rows "
        "of earlier runs, settings in `stan_agreement_runs.csv`). `diff_over_sd`: difference of "
        "the posterior means in Stan posterior sds; `z_mcse`: the same difference over the combined Monte Carlo "
        "standard error."
    )
    (out / "stan_agreement.md").write_text(_markdown(table, header))
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
