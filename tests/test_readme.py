"""The README's Python code runs as written (with small sampler settings)."""

import re
import warnings
from pathlib import Path

import pytest

pytestmark = pytest.mark.examples  # end to end: `make test-examples` (docs/testing.md)

README = Path(__file__).resolve().parents[1] / "README.md"


#: First line of README blocks run by a test of their own (model recovery and SBC).
ON_ITS_OWN = "# tests/test_readme.py runs this block on its own"


def python_blocks(on_its_own=False):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    return [b for b in blocks if b.startswith(ON_ITS_OWN) == on_its_own]


def test_readme_validation_code_runs(monkeypatch, capsys):
    (code,) = python_blocks(on_its_own=True)
    small = code
    for long, short in (
        (
            "n_datasets=4,\n                                     num_warmup=200, num_samples=200, num_chains=2)",
            "n_datasets=1, num_warmup=20, num_samples=20, num_chains=1, progress=False)",
        ),
        (
            "n_simulations=100, n_draws=39)",
            "n_simulations=4, n_draws=9, num_warmup=15, num_samples=30, num_chains=1, progress=False)",
        ),
    ):
        assert long in small, f"the README's model recovery / SBC code changed: update {long!r} here"
        small = small.replace(long, short)
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny runs warn about ESS
        exec(compile(small, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert namespace["result"].confusion.shape == (2, 2) and "p_value" in out
    assert namespace["calibration"].ranks.shape == (4, 4)


def test_readme_code_runs(tmp_path, monkeypatch, capsys):
    blocks = python_blocks()
    assert len(blocks) >= 2
    code = "\n".join(blocks)
    small = code.replace(
        "num_warmup=1000, num_samples=1000, num_chains=4",
        "num_warmup=40, num_samples=40, num_chains=2, progress_bar=False",
    )
    assert small != code, "the README quick start changed: update this test's substitution"
    design = "num_warmup=500, num_samples=500, num_chains=2"
    assert design in small, "the README's group-differences run changed: update this test's substitution"
    small = small.replace(design, "num_warmup=40, num_samples=40, num_chains=2, progress_bar=False")
    for long, short in (
        ('method="svi", guide="lowrank")', 'method="svi", guide="lowrank", num_steps=300, progress_bar=False)'),
        (
            "num_warmup=1000, num_samples=500, num_chains=4",
            "num_warmup=40, num_samples=40, num_chains=2, progress_bar=False",
        ),
        (".resume(num_samples=500)", ".resume(num_samples=20, progress_bar=False)"),
    ):
        assert long in small, f"the README's approximate-inference/resume code changed: update {long!r} here"
        small = small.replace(long, short)
    # with 80 draws nearly every participant's Pareto k is high: skip the integrated step and
    # the exact refits here (tests/test_compare.py checks them)
    assert 'refit="auto"' in small, "the README comparison changed: update this test's substitution"
    small = small.replace('refit="auto"', 'refit="never", integrate=False')
    monkeypatch.chdir(tmp_path)
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny runs warn about ESS
        exec(compile(small, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert "alpha_group" in out and "true_alpha" in out
    assert (tmp_path / "fit.nc").exists()
    assert namespace["fit2"].model.name == "rescorla_wagner"
    assert namespace["my_model"].param_names == ("alpha_pos", "alpha_neg", "beta")
    assert len(namespace["lat"]) == len(namespace["df"]) and "prediction_error" in namespace["lat"]
    assert namespace["sessions"]["choice"].dims == ("chain", "draw", "participant", "trial")
    assert namespace["table"].index.name == "model" and set(namespace["table"].index) == {"rw", "rw_sticky"}
    assert "weight_stacking" in out and "Bayesian omnibus risk" in out
    assert namespace["svi"].method == "svi" and namespace["lap"].method == "map"
    assert namespace["more"].posterior.sizes["draw"] == 60  # 40 draws, then 20 more without warm-up
    coefs = namespace["fit_groups"].coefficients()
    assert ("alpha", "group[T.patient]") in coefs.index and ("alpha", "age") in coefs.index
    assert "<Contrast alpha (group 'patient' - 'control', natural scale)" in out and "'age': {'mean'" in out
