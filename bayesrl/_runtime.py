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


def default_cache_dir() -> str:
    """``$BAYESRL_CACHE_DIR``, else ``$XDG_CACHE_HOME/bayesrl/jax``, else ``~/.cache/bayesrl/jax``."""
    if os.environ.get("BAYESRL_CACHE_DIR"):
        return os.environ["BAYESRL_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "bayesrl", "jax")


def configure_compilation_cache(path: str | None = None) -> str | None:
    """Turn on JAX's persistent compilation cache unless the user configured one.

    Compiling NUTS over a scanned likelihood takes tens of seconds on a laptop CPU; with the
    cache, a later fit of a same-shaped data set (in any process) skips most of it.
    ``BAYESRL_CACHE_DIR=0`` (or ``off``) leaves JAX's settings alone.

    Parameters
    ----------
    path : str, optional
        Cache folder; default :func:`default_cache_dir`.

    Returns
    -------
    str or None
        The cache folder in use, or None when the cache is off.
    """
    import jax

    current = jax.config.jax_compilation_cache_dir
    if current:
        return current
    if os.environ.get("BAYESRL_CACHE_DIR", "").lower() in ("0", "off", "none", "false"):
        return None
    path = path or default_cache_dir()
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return path


def load_numpyro() -> None:
    """Import NumPyro for real before anything imports it as a submodule.

    ArviZ 1.x registers ``numpyro`` in ``sys.modules`` as a lazy module (``importlib.util.
    LazyLoader``) when ArviZ is imported first. A later ``import numpyro.distributions`` through
    that lazy parent leaves ``numpyro.distributions`` without its ``distribution`` submodule
    attribute, and NumPyro's own ``numpyro.factor`` then fails with ``AttributeError: module
    'numpyro.distributions' has no attribute 'distribution'`` (seen with ArviZ 1.x, NumPyro
    0.22, Python 3.12). Touching an attribute of the top-level package executes it properly
    first, whatever the user imported before bayesrl.
    """
    import numpyro

    numpyro.__version__  # noqa: B018  (forces a lazy module to load)
