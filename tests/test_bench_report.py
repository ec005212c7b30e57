"""The peer benchmark's tables: bootstrap intervals of ratios, pooled runs (``benchmarks/bench_peers.py``)."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_peers.py"


@pytest.fixture(scope="module")
def bench_peers():
    spec = importlib.util.spec_from_file_location("bench_peers_under_test", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def runs(values: dict, call="first", median_ess=True) -> pd.DataFrame:
    rows = [
        {"workload": "w (2 x 3)", "model": "m", "peer": peer, "repeat": i, "call": call, "wall_s": 10.0 + i,
         "min_bulk_ess": 100.0 * v, "min_tail_ess": 200.0, "min_ess_per_s": v, "divergences": 0,
         "leapfrog_steps": 15.0, "peak_rss_mb": 800.0, **({"median_bulk_ess": 1000.0 + i} if median_ess else {})}
        for peer, vs in values.items()
        for i, v in enumerate(vs)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_ratio_interval_constant_and_separated(bench_peers):
    assert bench_peers.ratio_interval([2.0, 2.0, 2.0], [1.0, 1.0, 1.0]) == (2.0, 2.0)
    low, high = bench_peers.ratio_interval([10.0, 11.0, 12.0, 13.0], [1.0, 2.0, 3.0, 2.5])
    assert 10.0 / 3.0 <= low <= high <= 13.0 / 1.0
    # the same spread on both sides: the interval holds 1 and is not degenerate
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(0.0, 0.3, 12), rng.lognormal(0.0, 0.3, 12)
    low, high = bench_peers.ratio_interval(a, b)
    assert low < np.median(a) / np.median(b) < high
    assert low < 1.0 < high


def test_ratio_interval_coverage(bench_peers):
    """Two peers with the same distribution: the 95% interval holds 1 in most replications."""
    rng = np.random.default_rng(2)
    held = [
        low <= 1.0 <= high
        for low, high in (
            bench_peers.ratio_interval(rng.lognormal(0, 0.3, 12), rng.lognormal(0, 0.3, 12), n_boot=2000, seed=k)
            for k in range(200)
        )
    ]
    assert 0.85 <= np.mean(held) <= 1.0


def test_ratios_interval_column_only_with_three_repeats(bench_peers):
    table = bench_peers.ratios(runs({"numpyro": [1.0, 1.2, 0.8], "bayesrl": [2.0, 2.4, 1.6]}))
    assert table.loc[0, "bayesrl / numpyro"] == 2.0
    low, high = (float(x) for x in table.loc[0, "bayesrl / numpyro 95% interval"].strip("[]").split(","))
    assert 1.3 <= low <= 2.0 <= high <= 3.0
    two = bench_peers.ratios(runs({"numpyro": [1.0, 1.2], "bayesrl": [2.0, 2.4]}))
    assert "bayesrl / numpyro 95% interval" not in two
    assert bench_peers.ratios(runs({"bayesrl": [2.0, 2.4, 1.6]})).empty  # no peer beside it
    # second calls are preferred where they ran
    both = pd.concat([runs({"numpyro": [1.0] * 3, "bayesrl": [1.0] * 3}),
                      runs({"numpyro": [1.0] * 3, "bayesrl": [3.0] * 3}, call="second")])  # fmt: skip
    assert bench_peers.ratios(both).loc[0, "bayesrl / numpyro"] == 3.0


def test_ratios_of_the_auto_centred_peer(bench_peers):
    table = bench_peers.ratios(runs({"stan": [1.0] * 3, "bayesrl": [2.0] * 3, "bayesrl_auto": [5.0] * 3}))
    row = table.loc[0]
    assert (row["bayesrl / stan"], row["bayesrl_auto / stan"], row["bayesrl_auto / bayesrl"]) == (2.0, 5.0, 2.5)
    assert "bayesrl / bayesrl" not in table and row["bayesrl_auto / bayesrl 95% interval"] == "[2.50, 2.50]"
    alone = bench_peers.ratios(runs({"bayesrl_auto": [5.0] * 3, "bayesrl": [2.0] * 3}))
    assert list(alone.columns) == ["workload", "bayesrl_auto / bayesrl", "bayesrl_auto / bayesrl 95% interval"]
    # the non-centred peer against the default
    nc = bench_peers.ratios(runs({"stan": [1.0] * 3, "bayesrl": [4.0] * 3, "bayesrl_nc": [2.0] * 3})).loc[0]
    assert (nc["bayesrl / stan"], nc["bayesrl_nc / stan"], nc["bayesrl_nc / bayesrl"]) == (4.0, 2.0, 0.5)


def test_pooled_runs_summary_skips_missing_figures(bench_peers, tmp_path):
    old = runs({"numpyro": [1.0, 2.0], "bayesrl": [1.5, 2.5]}, median_ess=False)
    new = runs({"numpyro": [3.0], "bayesrl": [3.5]})
    files = []
    for name, frame in (("a_runs.csv", old), ("b_runs.csv", new)):
        frame.to_csv(tmp_path / name, index=False)
        files.append(str(tmp_path / name))
    assert bench_peers.main(["--from-runs", *files, "--out", str(tmp_path), "--name", "pooled"]) == 0
    summary = pd.read_csv(tmp_path / "pooled.csv").set_index("peer")
    assert summary.loc["bayesrl", "repeats"] == 3
    assert summary.loc["bayesrl", "min_ess_per_s"] == "2.5 [1.5, 3.5]"
    assert str(summary.loc["bayesrl", "median_bulk_ess"]) == "1000"  # only the run that recorded it
    text = (tmp_path / "pooled.md").read_text()
    assert "a_runs.csv, b_runs.csv" in text and "| w (2 x 3) | 1.25 |" in text and "95% interval" in text
    assert not (tmp_path / "pooled_runs.csv").exists()  # the pooled files hold the runs


def test_ess_over_scalars_every_scalar_under_either_arviz(bench_peers):
    """One bulk and one tail ESS per non-constant scalar, in order, under ArviZ 0.2x and 1.x alike."""
    from bayesrl import _arviz

    rng = np.random.default_rng(0)
    iid = rng.normal(size=(4, 500, 3))
    walk = np.cumsum(rng.normal(size=(4, 500)), axis=1)
    bulk, tail = bench_peers.ess_over_scalars({"a": iid, "b": walk, "c": np.ones((4, 500, 2))})
    assert bulk.shape == tail.shape == (4,)  # the constant scalars are left out
    expected = [_arviz.ess_array(iid[:, :, j]) for j in range(3)] + [_arviz.ess_array(walk)]
    np.testing.assert_allclose(bulk, expected, rtol=1e-10)
    assert np.all((bulk[:3] > 0.7 * 2000) & (bulk[:3] < 1.3 * 2000)) and bulk[3] < 100
    assert np.all((tail[:3] > 0.6 * 2000) & (tail[:3] < 1.4 * 2000)) and tail[3] < 200


def test_bench_sizes_parse_and_refuse():
    """``--sizes`` items of bench_gradient.py and bench_fit.py (``_report.parse_size``)."""
    spec = importlib.util.spec_from_file_location("bench_report_under_test", PATH.parent / "_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.parse_size(" 24X100") == (24, 100)
    for bad in ("24", "24x", "ax100", "24x100x2"):
        with pytest.raises(SystemExit, match="PARTICIPANTSxTRIALS"):
            module.parse_size(bad)
