"""Import-time set-up (bayesrl/_runtime.py), checked in fresh interpreters."""

import subprocess
import sys

import pytest

CHECK = """
import sys
{before}
import bayesrl
import numpyro
import numpyro.distributions as dist
assert hasattr(sys.modules["numpyro.distributions"], "distribution"), "numpyro.distributions is half loaded"
from numpyro import handlers
with handlers.trace() as tr, handlers.seed(rng_seed=0):
    numpyro.factor("f", 1.0)  # reads numpyro.distributions.distribution.Unit
    numpyro.sample("x", dist.Normal(0.0, 1.0))
assert set(tr) == {{"f", "x"}}
print("ok")
"""


@pytest.mark.parametrize("before", ["", "import arviz", "import arviz, numpyro"], ids=["alone", "arviz", "both"])
def test_numpyro_is_fully_loaded_whatever_was_imported_first(before):
    # ArviZ 1.x registers numpyro as a lazy module; a submodule import through it used to leave
    # numpyro.distributions without `distribution`, and every fit failed (AttributeError).
    proc = subprocess.run(
        [sys.executable, "-c", CHECK.format(before=before)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
