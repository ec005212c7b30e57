"""The ``bayesrl`` command line: fit / summary / models, and one-line errors with exit status 2."""

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bayesrl as brl
from bayesrl.cli import main

# Tiny sampler settings: the fits only have to run, not converge. The example and notebook tests
# use the same ones, so their subprocesses can reuse compiled programs (bayesrl turns on JAX's
# persistent compilation cache at import).
TINY = ["--num-warmup", "20", "--num-samples", "20", "--num-chains", "2", "--seed", "0", "--no-progress"]


@pytest.fixture(scope="module")
def cli_fit(tmp_path_factory):
    """One in-process ``bayesrl fit`` on the shipped example, shared by the tests below."""
    out = tmp_path_factory.mktemp("cli") / "fit.nc"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["fit", "example:bandit2arm", "--model", "rescorla_wagner", "--out", str(out), *TINY])
    return code, stdout.getvalue(), stderr.getvalue(), out


def test_fit_prints_summary_and_writes_a_loadable_fit(cli_fit):
    code, out, err, path = cli_fit
    assert code == 0, err
    for text in ("Group-level summary", "alpha_group", "beta_sigma", "Diagnostics", "divergences", "saved"):
        assert text in out
    fit = brl.load_fit(path)
    assert fit.param_names == ["alpha", "beta"]
    assert fit.metadata["model"]["name"] == "rescorla_wagner"
    assert fit.metadata["sampler"]["num_samples"] == 20 and fit.metadata["sampler"]["num_chains"] == 2
    assert fit.posterior["alpha"].shape == (2, 20, 20)
    assert fit.data.n_participants == 20 and fit.data.choice_base == 1
    assert np.all((fit.posterior["alpha"].values >= 0) & (fit.posterior["alpha"].values <= 1))


def test_summary_prints_summary_diagnostics_and_participants(cli_fit, capsys):
    path = cli_fit[3]
    assert main(["summary", str(path), "--hdi-prob", "0.9"]) == 0
    out = capsys.readouterr().out
    for text in ("alpha_mu", "beta_group", "hdi_5%", "max R-hat", "Participants", "alpha_hdi_lower", "n_masked"):
        assert text in out
    participant_rows = [line for line in out.splitlines() if line.split() and line.split()[0] in {"1", "20"}]
    assert len(participant_rows) == 2


def test_models_lists_the_library(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "rescorla_wagner\n" in out
    assert "alpha [0, 1]" in out


def _bad_table(tmp_path):
    path = tmp_path / "no_outcome.csv"
    path.write_text("subject;choice;points\n1;1;1\n1;2;-1\n")
    return path


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fit", "{tmp}/missing.csv", "--model", "rescorla_wagner", "--out", "{tmp}/f.nc"], "no such data file"),
        (
            ["fit", "example:bandit2arm", "--model", "rescorla_wagnr", "--out", "{tmp}/f.nc"],
            "did you mean rescorla_wagner",
        ),
        (["fit", "example:nope", "--model", "rescorla_wagner", "--out", "{tmp}/f.nc"], "unknown example data set"),
        # ';'-separated: the message lists the columns it found, so --sep was honoured
        (
            ["fit", "{bad}", "--sep", ";", "--model", "rescorla_wagner", "--out", "{tmp}/f.nc"],
            "missing required column 'outcome'",
        ),
        (["fit", "{bad}", "--model", "rescorla_wagner", "--column", "outcome", "--out", "{tmp}/f.nc"], "NAME=COLUMN"),
        (
            ["fit", "example:bandit2arm", "--model", "rescorla_wagner", "--n-options", "1", "--out", "{tmp}/f.nc"],
            "n_options must be at least 2",
        ),
        (
            ["fit", "example:bandit2arm", "--model", "rescorla_wagner", "--choice-base", "0", "--out", "{tmp}/f.nc"],
            "outside 0..1",
        ),
        (["fit", "example:bandit2arm", "--model", "rescorla_wagner", "--out", "{tmp}"], "is a directory"),
        (
            ["fit", "example:bandit2arm", "--model", "rescorla_wagner", "--centered", "alpah", "--out", "{tmp}/f.nc"],
            "centered= names unknown parameters ['alpah']",
        ),
        (["summary", "{tmp}/missing.nc"], "no such fit file"),
        (["summary", "{bad}"], "not a netCDF file"),
    ],
    ids=[
        "missing-data",
        "unknown-model",
        "unknown-example",
        "data-error",
        "bad-column",
        "n-options",
        "choice-base",
        "out-dir",
        "centered",
        "missing-fit",
        "not-netcdf",
    ],
)
def test_bad_input_is_one_line_error_with_status_2(argv, message, tmp_path, capsys):
    bad = _bad_table(tmp_path)
    argv = [a.format(tmp=tmp_path, bad=bad) for a in argv]
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert message in err
    assert "Traceback" not in captured.err + captured.out
    assert not (tmp_path / "f.nc").exists()


def test_bad_input_leaves_the_data_column_message_intact(tmp_path, capsys):
    bad = _bad_table(tmp_path)
    main(["fit", str(bad), "--sep", ";", "--model", "rescorla_wagner", "--out", str(tmp_path / "f.nc")])
    err = capsys.readouterr().err
    assert "['subject', 'choice', 'points']" in err  # the table was split on ';'


def test_malformed_arguments_exit_2():
    with pytest.raises(SystemExit) as info:
        main(["fit", "example:bandit2arm"])  # --model and --out missing
    assert info.value.code == 2


@pytest.mark.examples
def test_console_script_runs_a_fit(tmp_path):
    script = Path(sys.executable).with_name("bayesrl")
    if not script.exists():
        pytest.skip(f"the bayesrl console script is not installed next to {sys.executable}")
    out = tmp_path / "fit.nc"
    proc = subprocess.run(
        [str(script), "fit", "example:bandit2arm", "--model", "rescorla_wagner", "--out", str(out), *TINY],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Group-level summary" in proc.stdout and f"saved {out}" in proc.stdout
    assert brl.load_fit(out).posterior["beta"].shape == (2, 20, 20)
