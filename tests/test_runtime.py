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


FLAGS = """
import os, sys
{before}
import bayesrl
print(repr(os.environ.get("XLA_FLAGS", "")))
"""
OPTION = "xla_cpu_small_while_loop_byte_threshold"


def _flags_after_import(env_extra, before=""):
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "BAYESRL_SMALL_LOOP_BYTES")}
    env.update(env_extra)
    proc = subprocess.run(
        [sys.executable, "-c", FLAGS.format(before=before)], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return eval(proc.stdout.strip().splitlines()[-1])


def test_import_lets_xla_compile_small_loops_whole():
    flags = _flags_after_import({})
    assert f"--xla_backend_extra_options={OPTION}=1000000000" in flags.split()
    assert "--xla_force_host_platform_device_count=" in flags


def test_small_loop_option_joins_the_users_backend_options_and_respects_their_own():
    flags = _flags_after_import({"XLA_FLAGS": "--xla_backend_extra_options=xla_cpu_disable_loop_unrolling=true"})
    assert f"--xla_backend_extra_options=xla_cpu_disable_loop_unrolling=true,{OPTION}=1000000000" in flags.split()
    assert flags.count("--xla_backend_extra_options") == 1

    own = f"--xla_backend_extra_options={OPTION}=4096"
    assert _flags_after_import({"XLA_FLAGS": own}).split()[0] == own


def test_small_loop_option_can_be_chosen_or_turned_off_and_waits_for_jax_not_started():
    assert f"{OPTION}=65536" in _flags_after_import({"BAYESRL_SMALL_LOOP_BYTES": "65536"})
    assert OPTION not in _flags_after_import({"BAYESRL_SMALL_LOOP_BYTES": "0"})
    started = "import jax; jax.numpy.zeros(1)"  # the backend is up: XLA_FLAGS is read already
    assert OPTION not in _flags_after_import({}, before=started)


def test_small_loop_setting_that_is_not_a_number_is_named(monkeypatch):
    from bayesrl._runtime import configure_small_loops

    monkeypatch.setenv("XLA_FLAGS", "")
    monkeypatch.setenv("BAYESRL_SMALL_LOOP_BYTES", "lots")
    with pytest.raises(ValueError, match="BAYESRL_SMALL_LOOP_BYTES must be a whole number of bytes.*'lots'"):
        configure_small_loops()
    import jax

    jax.numpy.zeros(1).block_until_ready()  # the backend is up: XLA_FLAGS was read already
    monkeypatch.setenv("BAYESRL_SMALL_LOOP_BYTES", "65536")
    assert configure_small_loops() is False
    assert "xla_cpu_small_while_loop_byte_threshold" not in __import__("os").environ["XLA_FLAGS"]


def test_host_device_setting_that_is_not_a_number_is_named(monkeypatch):
    from bayesrl._runtime import configure_host_devices

    monkeypatch.setenv("XLA_FLAGS", "")
    monkeypatch.setenv("BAYESRL_HOST_DEVICES", "four")
    with pytest.raises(ValueError, match="BAYESRL_HOST_DEVICES must be a whole number of devices.*'four'"):
        configure_host_devices()
    monkeypatch.setenv("BAYESRL_HOST_DEVICES", " 0 ")  # a blank-padded number is read; 0 turns it off
    assert configure_host_devices() is False
    assert __import__("os").environ["XLA_FLAGS"] == ""


def test_a_malformed_setting_stops_the_import_with_its_name():
    import os

    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["BAYESRL_HOST_DEVICES"] = "4.5"
    proc = subprocess.run(
        [sys.executable, "-c", "import bayesrl"], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode != 0
    assert "ValueError: BAYESRL_HOST_DEVICES must be a whole number of devices" in proc.stderr
    assert "'4.5'" in proc.stderr
