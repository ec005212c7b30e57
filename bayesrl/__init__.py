"""bayesrl: hierarchical Bayesian fitting of trial-by-trial learning models.

>>> import bayesrl as brl
>>> df = brl.datasets.load("bandit2arm")
>>> model = brl.models.rescorla_wagner(n_options=2)
>>> fit = brl.fit(model, df, num_warmup=1000, num_samples=1000, num_chains=4, seed=0)  # doctest: +SKIP
"""

from ._runtime import configure_compilation_cache, configure_host_devices, configure_small_loops, load_numpyro

configure_host_devices()  # before JAX starts: lets chains run on parallel CPU devices
configure_small_loops()  # before JAX starts: XLA's CPU compiler takes small loops whole
configure_compilation_cache()  # later fits of same-shaped data skip most compilation
load_numpyro()  # before ArviZ 1.x can register NumPyro as a lazy module (see load_numpyro)

from . import datasets, models, plots, tasks, transforms, validate  # noqa: E402
from ._bms import BMS, bms  # noqa: E402
from .api import fit, simulate  # noqa: E402
from .compare import compare, participant_elpd  # noqa: E402
from .data import DataError  # noqa: E402
from .model import Model, Stage  # noqa: E402
from .results import Diagnostics, Fit, load_fit  # noqa: E402
from .transforms import Parameter, Prior, bounded, positive, real, unit  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "BMS",
    "DataError",
    "Diagnostics",
    "Fit",
    "Model",
    "Parameter",
    "Prior",
    "Stage",
    "bms",
    "bounded",
    "compare",
    "configure_compilation_cache",
    "configure_host_devices",
    "configure_small_loops",
    "datasets",
    "fit",
    "load_fit",
    "models",
    "participant_elpd",
    "plots",
    "positive",
    "real",
    "simulate",
    "tasks",
    "transforms",
    "unit",
    "validate",
]
