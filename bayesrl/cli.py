"""The ``bayesrl`` command line: fit a model to a table, summarise a saved fit, list models.

Examples
--------
::

    bayesrl models
    bayesrl fit example:bandit2arm --model rescorla_wagner --out fit.nc
    bayesrl fit trials.tsv --model rescorla_wagner --n-options 4 --choice-base 1 --out fit.nc
    bayesrl summary fit.nc

Bad input (a table that cannot be used, an unknown model, a missing file) ends with a one-line
``error: ...`` on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys

import pandas as pd

EXAMPLE_PREFIX = "example:"

#: Exceptions that mean "the input is wrong": reported in one line, exit status 2.
#: (``bayesrl.DataError`` is a ValueError; an unknown model name is a KeyError.)
_USER_ERRORS = (ValueError, KeyError, FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)


class UsageError(Exception):
    """Bad command-line input found by this module."""


def _message(exc: BaseException) -> str:
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return " ".join(str(text).split()) or type(exc).__name__


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="bayesrl",
        description="Hierarchical Bayesian fitting of trial-by-trial reinforcement-learning models.",
    )
    parser.add_argument("--version", action="version", version=f"bayesrl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    f = sub.add_parser(
        "fit",
        help="fit a model to a long table of trials and save the fit",
        description="Fit a hierarchical model with NUTS, print the summary and diagnostics, save the fit (netCDF).",
    )
    f.add_argument(
        "data",
        metavar="DATA",
        help="CSV/TSV file, one row per trial (participant, choice, outcome...), or example:NAME for a "
        "shipped data set (example:bandit2arm)",
    )
    f.add_argument("--model", required=True, help="library model name (see `bayesrl models`)")
    f.add_argument("--n-options", type=int, default=None, help="number of options (default: the model's, 2)")
    f.add_argument("--out", required=True, metavar="PATH", help="where to write the fit (netCDF, e.g. fit.nc)")
    f.add_argument("--num-warmup", type=int, default=1000, metavar="N", help="NUTS warm-up iterations per chain")
    f.add_argument("--num-samples", type=int, default=1000, metavar="N", help="kept draws per chain")
    f.add_argument("--num-chains", type=int, default=4, metavar="N", help="chains")
    f.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    f.add_argument(
        "--choice-base", type=int, choices=(0, 1), default=None, help="choices coded 0..K-1 or 1..K (default: decide)"
    )
    f.add_argument("--sep", default=None, help="field separator of DATA (default: tab for .tsv/.txt, else sniffed)")
    f.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="NAME=COLUMN",
        help="map a canonical column to the table's column, e.g. --column participant=subj (repeatable)",
    )
    f.add_argument("--target-accept", type=float, default=0.8, help="NUTS target acceptance (raise if divergent)")
    f.add_argument(
        "--centered",
        default=None,
        metavar="auto|P1,P2",
        help="parameters to sample centred, comma-separated ('' for none), or 'auto' to choose from the data "
        "(default: auto from 10,000 observed choices on, none below)",
    )
    f.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    s = sub.add_parser(
        "summary",
        help="print the summary, diagnostics and participants of a saved fit",
        description="Print the group-level summary, diagnostics and per-participant table of a saved fit.",
    )
    s.add_argument("path", metavar="FIT", help="a file written by `bayesrl fit` or Fit.save")
    s.add_argument("--hdi-prob", type=float, default=0.94, help="HDI probability (default 0.94)")

    sub.add_parser("models", help="list the library models", description="List the library models.")
    return parser


def _read_data(spec: str, sep: str | None) -> pd.DataFrame:
    from . import datasets
    from .data import read_table

    if spec.startswith(EXAMPLE_PREFIX):
        name = spec[len(EXAMPLE_PREFIX) :]
        if name not in datasets.list_datasets():
            raise UsageError(f"unknown example data set {name!r}; available: {', '.join(datasets.list_datasets())}")
        return datasets.load(name)
    return read_table(spec, sep=sep)


def _columns(pairs) -> dict | None:
    out = {}
    for pair in pairs:
        name, eq, column = pair.partition("=")
        if not eq or not name or not column:
            raise UsageError(f"--column expects NAME=COLUMN (e.g. participant=subj), got {pair!r}")
        out[name.strip()] = column.strip()
    return out or None


def _print_table(title: str, table: pd.DataFrame, digits: int = 3) -> None:
    print(f"\n{title}")
    table = table.round(digits)
    for col in table.columns:
        if col.startswith("ess_"):  # whole numbers, as in ArviZ 0.x, whichever ArviZ made the table
            table[col] = table[col].round(0)
    with pd.option_context("display.width", 200, "display.max_columns", None, "display.max_rows", None):
        print(table.to_string())


def _report(fit, hdi_prob: float = 0.94, participants: bool = False) -> None:
    print(repr(fit))
    _print_table("Group-level summary", fit.summary(hdi_prob=hdi_prob))
    print("\nDiagnostics")
    print(fit.diagnostics(warn=False))
    if participants:
        _print_table("Participants (posterior mean, sd, HDI)", fit.participants(hdi_prob=hdi_prob))


def _fit(args) -> int:
    import bayesrl as brl

    # Everything that can be checked is checked before sampling starts.
    factory = brl.models.get(args.model)  # KeyError names the nearest models
    columns = _columns(args.column)
    out = os.path.abspath(args.out)
    if os.path.isdir(out):
        raise UsageError(
            f"--out {args.out!r} is a directory; give a file path such as {os.path.join(args.out, 'fit.nc')}"
        )
    existing = os.path.dirname(out)
    while not os.path.isdir(existing):
        existing = os.path.dirname(existing)
    if not os.access(existing, os.W_OK):
        raise UsageError(f"cannot write --out {args.out!r}: {existing} is not writable")
    options = {} if args.n_options is None else {"n_options": args.n_options}
    model = factory(**options)
    table = _read_data(args.data, args.sep)
    fit = brl.fit(
        model,
        table,
        num_warmup=args.num_warmup,
        num_samples=args.num_samples,
        num_chains=args.num_chains,
        seed=args.seed,
        columns=columns,
        choice_base=args.choice_base,
        target_accept=args.target_accept,
        centered=args.centered
        if args.centered in (None, "auto")
        else [p.strip() for p in args.centered.split(",") if p.strip()],
        progress_bar=not args.no_progress,
        check=False,  # the diagnostics are printed below, not raised as warnings
    )
    fit.save(out)  # first, so that nothing after the sampling can lose the draws
    _report(fit)
    print(f"\nsaved {out}")
    return 0


def _check_netcdf(path: str) -> None:
    """Fail early, in plain words, when ``path`` is not a netCDF file (HDF5 or classic)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such fit file: {path}")
    if os.path.isdir(path):
        raise UsageError(f"{path} is a directory; give the fit file inside it (e.g. {os.path.join(path, 'fit.nc')})")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if not (head.startswith(b"\x89HDF\r\n\x1a\n") or head.startswith(b"CDF")):
        raise UsageError(f"{path} is not a netCDF file; give a fit saved by `bayesrl fit --out` or Fit.save")


def _summary(args) -> int:
    import bayesrl as brl

    if not 0 < args.hdi_prob < 1:
        raise UsageError(f"--hdi-prob must be between 0 and 1, got {args.hdi_prob}")
    _check_netcdf(args.path)
    try:
        fit = brl.load_fit(args.path)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise UsageError(f"cannot read {args.path} as a saved fit (netCDF): {_message(exc)}") from exc
    _report(fit, hdi_prob=args.hdi_prob, participants=True)
    return 0


def _models(args) -> int:
    import bayesrl as brl

    table = brl.models.list()
    for name, row in table.iterrows():
        print(name)
        print(f"    {row['description']}")
        print(f"    parameters: {row['parameters']}")
        print(f"    columns:    {row['columns']}")
        print(f"    reference:  {row['citation']}")
    return 0


def main(argv=None) -> int:
    """Run the ``bayesrl`` command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 on success, 2 for bad input (after a one-line ``error: ...`` on stderr), 130 when
        interrupted. argparse itself exits with 2 for malformed arguments.
    """
    args = _parser().parse_args(argv)
    commands = {"fit": _fit, "summary": _summary, "models": _models}
    try:
        return commands[args.command](args)
    except (UsageError, *_USER_ERRORS) as exc:
        print(f"error: {_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `bayesrl summary fit.nc | head`: stop quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
            pass
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
