"""Arrange several CPU devices so MCMC chains can run in parallel.

JAX reads ``--xla_force_host_platform_device_count`` from ``XLA_FLAGS`` once, when its
backend starts. ``bayesrl`` sets it at import time if JAX has not started yet and the user
has not set it; afterwards it can only explain how.
"""

from __future__ import annotations

import os
import sys

_FLAG = "--xla_force_host_platform_device_count"
DEFAULT_HOST_DEVICES = 4


def _backend_started() -> bool:
    if "jax" not in sys.modules:
        return False
    try:
        from jax._src import xla_bridge

        return bool(xla_bridge.backends_are_initialized())
    except Exception:  # pragma: no cover - private API moved
        return True


def configure_host_devices(n: int | None = None) -> bool:
    """Ask XLA for ``n`` CPU devices if it is still possible.

    Parameters
    ----------
    n : int, optional
        Number of host (CPU) devices. Defaults to ``max(4, os.cpu_count())`` or the
        environment variable ``BAYESRL_HOST_DEVICES`` (``0`` disables the setting).

    Returns
    -------
    bool
        True when the flag is in place (set now or by the user), False when JAX had
        already started or the user disabled it.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if _FLAG in flags:
        return True
    if n is None:
        env = os.environ.get("BAYESRL_HOST_DEVICES")
        n = int(env) if env else max(DEFAULT_HOST_DEVICES, os.cpu_count() or 1)
    if n <= 0 or _backend_started():
        return False
    os.environ["XLA_FLAGS"] = f"{flags} {_FLAG}={n}".strip()
    return True


HOW_TO = (
    "To run chains in parallel on CPU, start Python with several host devices: import "
    "bayesrl before anything starts JAX, or set XLA_FLAGS="
    f"'{_FLAG}=4' in the environment (or call numpyro.set_host_device_count(4) "
    "before any JAX computation)."
)
