"""The model library: each model is a composition of a learning rule and a choice rule.

``bayesrl.models.<name>()`` returns a :class:`~bayesrl.Model`; :func:`list` shows them all
and :func:`get` finds one by name. Each family lives in its own module and registers its
factories with :func:`register`.
"""

from ._bandit4arm import (
    bandit4arm2_kalman_filter,
    bandit4arm_2par_lapse,
    bandit4arm_4par,
    bandit4arm_lapse,
    bandit4arm_lapse_decay,
    bandit4arm_singleA_lapse,
)
from ._banditNarm import (
    banditNarm_2par_lapse,
    banditNarm_4par,
    banditNarm_delta,
    banditNarm_kalman_filter,
    banditNarm_lapse,
    banditNarm_lapse_decay,
    banditNarm_singleA_lapse,
)
from ._common import QState, StickyQState
from ._gng import gng_m1, gng_m2, gng_m3, gng_m4
from ._igt import igt_orl, igt_pvl_decay, igt_pvl_delta, igt_vpp
from ._prl import (
    prl_ewa,
    prl_fictitious,
    prl_fictitious_rp,
    prl_fictitious_rp_woa,
    prl_fictitious_woa,
    prl_rp,
)
from ._pst import pst_gainloss_Q, pst_Q
from ._registry import _REGISTRY, get, list_models, register  # noqa: F401 (_REGISTRY for tests/api)
from ._rescorla_wagner import (
    bandit2arm_delta,
    rescorla_wagner,
    rescorla_wagner_asymmetric,
    rescorla_wagner_perseveration,
)
from ._twostep import ts_par4, ts_par6, ts_par7
from ._variants import (
    rescorla_wagner_pearce_hall,
    with_forgetting,
    with_free_initial_value,
    with_lapse,
    with_perseveration,
)

list = list_models  # noqa: A001 - ``brl.models.list()`` is the public spelling

__all__ = [
    "QState",
    "bandit2arm_delta",
    "bandit4arm2_kalman_filter",
    "bandit4arm_2par_lapse",
    "bandit4arm_4par",
    "bandit4arm_lapse",
    "bandit4arm_lapse_decay",
    "bandit4arm_singleA_lapse",
    "banditNarm_2par_lapse",
    "banditNarm_4par",
    "banditNarm_delta",
    "banditNarm_kalman_filter",
    "banditNarm_lapse",
    "banditNarm_lapse_decay",
    "banditNarm_singleA_lapse",
    "StickyQState",
    "get",
    "gng_m1",
    "gng_m2",
    "gng_m3",
    "gng_m4",
    "igt_orl",
    "igt_pvl_decay",
    "igt_pvl_delta",
    "igt_vpp",
    "list",
    "list_models",
    "pst_Q",
    "pst_gainloss_Q",
    "prl_ewa",
    "prl_fictitious",
    "prl_fictitious_rp",
    "prl_fictitious_rp_woa",
    "prl_fictitious_woa",
    "prl_rp",
    "register",
    "rescorla_wagner",
    "rescorla_wagner_asymmetric",
    "rescorla_wagner_pearce_hall",
    "rescorla_wagner_perseveration",
    "ts_par4",
    "ts_par6",
    "ts_par7",
    "with_forgetting",
    "with_free_initial_value",
    "with_lapse",
    "with_perseveration",
]
