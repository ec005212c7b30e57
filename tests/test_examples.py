"""Examples are tests: the example script and the notebooks run with tiny settings, and the
figures they draw (``bayesrl.plots``) are checked on the fit the script writes."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bayesrl as brl
from bayesrl import plots
from bayesrl.results import Fit

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "fit_bandit2arm.py"
NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# The same tiny settings as tests/test_cli.py, so the subprocesses can reuse compiled programs
# (bayesrl turns on JAX's persistent compilation cache at import).
WARMUP, SAMPLES, CHAINS = 20, 20, 2


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    """Run examples/fit_bandit2arm.py once with tiny settings; its fit is shared by the plot tests."""
    out = tmp_path_factory.mktemp("example") / "output"
    flags = ["--num-warmup", str(WARMUP), "--num-samples", str(SAMPLES), "--num-chains", str(CHAINS)]
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE), "--out", str(out), *flags, "--no-progress"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc, out


@pytest.fixture(scope="module")
def small_fit(example_run):
    proc, out = example_run
    if proc.returncode != 0:
        pytest.fail(f"the example script failed:\n{proc.stderr[-3000:]}")
    return brl.load_fit(out / "fit.nc")


@pytest.fixture
def close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def test_example_script_writes_fit_and_figures(example_run):
    proc, out = example_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ("fit.nc", "learning_curve.png", "participants_alpha.png"):
        assert (out / name).stat().st_size > 1000, name
    for text in ("Group-level summary", "Diagnostics", "Participants", "Recovery", "pearson_r"):
        assert text in proc.stdout
    recovery = [line.split() for line in proc.stdout.splitlines() if line.split()[:1] in (["alpha"], ["beta"])]
    assert len(recovery) == 2 and all(-1 <= float(row[1]) <= 1 for row in recovery)


def test_one_step_probabilities_shapes_and_rows(small_fit):
    probs = plots.one_step_probabilities(small_fit, num_draws=7, seed=1)
    n_p, n_t = small_fit.data.arrays["valid"].shape
    assert probs.shape == (7, n_p, n_t, 2)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    assert np.all((probs >= 0) & (probs <= 1))
    np.testing.assert_allclose(probs[:, :, 0, :], 0.5, atol=1e-6)  # equal initial values: no preference
    np.testing.assert_array_equal(probs, plots.one_step_probabilities(small_fit, num_draws=7, seed=1))
    assert plots.one_step_probabilities(small_fit, num_draws=10_000).shape[0] == CHAINS * SAMPLES


def test_one_step_probabilities_reproduce_the_stored_log_likelihood(small_fit):
    # With every draw kept (in chain-major order), log P(observed choice) must equal the
    # pointwise log-likelihood the fit stored: the plot uses the likelihood's own code path.
    probs = plots.one_step_probabilities(small_fit, num_draws=CHAINS * SAMPLES)
    choice, valid = small_fit.data.arrays["choice"], small_fit.data.arrays["valid"]
    picked = np.take_along_axis(probs, choice[None, :, :, None], axis=-1)[..., 0]
    stored = small_fit.log_likelihood("trial").reshape(CHAINS * SAMPLES, -1)
    np.testing.assert_allclose(np.log(picked[:, valid]), stored, atol=2e-4)


def test_one_step_probabilities_need_a_model(small_fit):
    bare = Fit(small_fit.idata, None, small_fit.data, small_fit.metadata)
    with pytest.raises(ValueError, match="no model attached"):
        plots.one_step_probabilities(bare)
    with pytest.raises(ValueError, match="num_draws"):
        plots.one_step_probabilities(small_fit, num_draws=0)


def test_plot_learning_curve(small_fit, close_figures):
    from matplotlib.axes import Axes

    ax = plots.plot_learning_curve(small_fit, num_draws=20)
    assert isinstance(ax, Axes)
    assert len(ax.lines) == 2 and len(ax.collections) == 2  # mean and observed; two bands
    assert ax.get_xlabel() == "trial" and ax.get_ylabel() == "P(choose option 1)"  # 1 pays 0.7
    assert ax.get_legend() is not None and ax.get_title()
    observed = ax.lines[1].get_ydata()
    arrays = small_fit.data.arrays
    expected = ((arrays["choice"] == 0) & arrays["valid"]).sum(0) / arrays["valid"].sum(0)
    np.testing.assert_allclose(observed, expected)
    predicted = ax.lines[0].get_ydata()
    assert np.all((predicted > 0) & (predicted < 1))

    import matplotlib.pyplot as plt

    _, given = plt.subplots()
    ax2 = plots.plot_learning_curve(small_fit, ax=given, option=2, num_draws=5, predictive=False)
    assert ax2 is given and ax2.get_ylabel() == "P(choose option 2)" and len(ax2.collections) == 1
    with pytest.raises(ValueError, match="option must be one of"):
        plots.plot_learning_curve(small_fit, option=0)


def test_plot_participants(small_fit, close_figures):
    from matplotlib.axes import Axes

    truth = brl.datasets.load("bandit2arm").groupby("participant")["true_alpha"].first()
    ax = plots.plot_participants(small_fit, "alpha", true_values=truth)
    assert isinstance(ax, Axes)
    (intervals,) = ax.collections
    assert len(intervals.get_segments()) == small_fit.data.n_participants
    means = ax.lines[0].get_xdata()
    np.testing.assert_allclose(means, small_fit.participants()["alpha_mean"].to_numpy())
    np.testing.assert_allclose(ax.lines[-1].get_xdata(), truth.to_numpy())  # ids 1..20 in order
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "1"
    assert ax.get_xlabel() == "alpha"
    with pytest.raises(ValueError, match="unknown parameter"):
        plots.plot_participants(small_fit, "gamma")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_has_outputs(notebook):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs)


def run_notebook(path, tmp_path, monkeypatch, settings):
    """Execute a notebook in a fresh kernel with ``settings`` in its environment; return it."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    for key, value in settings.items():
        monkeypatch.setenv(key, value)  # the kernel inherits this process's environment
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    return nb


@pytest.mark.examples
def test_quickstart_notebook_runs(tmp_path, monkeypatch):
    settings = {
        "BAYESRL_NB_NUM_WARMUP": str(WARMUP),
        "BAYESRL_NB_NUM_SAMPLES": str(SAMPLES),
        "BAYESRL_NB_NUM_CHAINS": str(CHAINS),
        "BAYESRL_NB_OUT_DIR": str(tmp_path),
    }
    run_notebook(NOTEBOOK, tmp_path, monkeypatch, settings)
    assert (tmp_path / "quickstart_fit.nc").exists()


@pytest.mark.examples
def test_patient_vs_control_notebook_runs(tmp_path, monkeypatch):
    settings = {
        "BAYESRL_NB_NUM_WARMUP": str(WARMUP),
        "BAYESRL_NB_NUM_SAMPLES": str(SAMPLES),
        "BAYESRL_NB_NUM_CHAINS": str(CHAINS),
    }
    nb = run_notebook(ROOT / "notebooks" / "patient_vs_control.ipynb", tmp_path, monkeypatch, settings)
    text = "\n".join(
        o.get("text", "") or o.get("data", {}).get("text/plain", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "<Contrast alpha (group 'patient' - 'control'" in text and "group[T.patient]" in text
    assert "correlation of estimated and true alpha" in text
    assert any("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.examples
def test_model_checking_notebook_runs(tmp_path, monkeypatch):
    settings = {
        "BAYESRL_NB_NUM_WARMUP": str(WARMUP),
        "BAYESRL_NB_NUM_SAMPLES": str(SAMPLES),
        "BAYESRL_NB_NUM_CHAINS": str(CHAINS),
        "BAYESRL_NB_PPC_DRAWS": "20",
        "BAYESRL_NB_RECOVERY_DATASETS": "1",
        "BAYESRL_NB_RECOVERY_PARTICIPANTS": "4",
        "BAYESRL_NB_RECOVERY_TRIALS": "20",
    }
    nb = run_notebook(ROOT / "notebooks" / "model_checking.ipynb", tmp_path, monkeypatch, settings)
    text = "\n".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "Bayesian omnibus risk" in text and "prediction_error" in text and "winner" in text
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert images >= 6
