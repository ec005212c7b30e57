"""Set JAX up before it starts: CPU devices for parallel chains, small loops as one kernel.

JAX reads ``XLA_FLAGS`` once, when its backend starts. ``bayesrl`` adds two flags at import
time if JAX has not started yet and the user has not set them; afterwards it can only explain
how:

- ``--xla_force_host_platform_device_count``: several CPU devices, so MCMC chains run in
  parallel;
- ``xla_cpu_small_while_loop_byte_threshold`` (an ``--xla_backend_extra_options`` entry): how
  many bytes a ``while`` loop may touch for XLA's CPU compiler to compile it into one kernel
  instead of dispatching each operation of each iteration separately. A trial loop over a few
  dozen participants is a few tiny vector operations per trial, whose dispatch costs more than
  the arithmetic; XLA's default (1 kB in the XLA source read) leaves them dispatched one by one.
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


def _env_int(name: str, default: int, unit: str) -> int:
    """The whole number in environment variable ``name``, ``default`` when unset or blank.

    Raises a ``ValueError`` naming the variable and the value when it is not a whole number,
    rather than Python's generic ``int()`` message at import time.
    """
    env = os.environ.get(name, "").strip()
    if not env:
        return default
    try:
        return int(env)
    except ValueError:
        raise ValueError(f"{name} must be a whole number of {unit} (0: leave XLA's default), got {env!r}") from None


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

    Raises
    ------
    ValueError
        If ``BAYESRL_HOST_DEVICES`` is not a whole number.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if _FLAG in flags:
        return True
    if n is None:
        n = _env_int("BAYESRL_HOST_DEVICES", max(DEFAULT_HOST_DEVICES, os.cpu_count() or 1), "devices")
    if n <= 0 or _backend_started():
        return False
    os.environ["XLA_FLAGS"] = f"{flags} {_FLAG}={n}".strip()
    return True


_EXTRA = "--xla_backend_extra_options"
_SMALL_LOOP = "xla_cpu_small_while_loop_byte_threshold"
SMALL_LOOP_BYTES = 1_000_000_000


def configure_small_loops(n_bytes: int | None = None) -> bool:
    """Let XLA's CPU compiler compile every small ``while`` loop into one kernel, if still possible.

    NUTS' tree building and the trial loop are ``while`` loops whose iterations are a few small
    array operations. XLA's CPU runtime dispatches each operation separately unless its
    small-loop pass takes the whole loop, which it does only below a byte threshold. Raising
    the threshold made the example's gradient (20 participants x 100 trials) 4.5-6.6x faster
    under jax 0.10 and a whole fit 2.9x faster (``benchmarks/README.md``, "Small loops as one
    kernel"); JAX versions without the pass ignore the option.

    Parameters
    ----------
    n_bytes : int, optional
        The threshold in bytes. Defaults to ``SMALL_LOOP_BYTES`` (every loop) or the
        environment variable ``BAYESRL_SMALL_LOOP_BYTES`` (``0`` leaves XLA's default).

    Returns
    -------
    bool
        True when the option is in place (set now or by the user), False when JAX had already
        started or the setting is disabled.

    Raises
    ------
    ValueError
        If ``BAYESRL_SMALL_LOOP_BYTES`` is not a whole number.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if _SMALL_LOOP in flags:
        return True
    if n_bytes is None:
        n_bytes = _env_int("BAYESRL_SMALL_LOOP_BYTES", SMALL_LOOP_BYTES, "bytes")
    if n_bytes <= 0 or _backend_started():
        return False
    option = f"{_SMALL_LOOP}={n_bytes}"
    words = flags.split()
    for k, word in enumerate(words):  # the user's own backend options: add ours to them
        if word.startswith(_EXTRA + "="):
            words[k] = f"{word},{option}"
            break
    else:
        words.append(f"{_EXTRA}={option}")
    os.environ["XLA_FLAGS"] = " ".join(words)
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
