"""The model library: each model is a composition of a learning rule and a choice rule.

``bayesrl.models.<name>()`` returns a :class:`~bayesrl.Model`; :func:`list` shows them all
and :func:`get` finds one by name. Each family lives in its own module and registers its
factories with :func:`register`.
"""

from ._common import QState, StickyQState
from ._registry import _REGISTRY, get, list_models, register  # noqa: F401 (_REGISTRY for tests/api)
from ._rescorla_wagner import (
    bandit2arm_delta,
    rescorla_wagner,
    rescorla_wagner_asymmetric,
    rescorla_wagner_perseveration,
)

list = list_models  # noqa: A001 - ``brl.models.list()`` is the public spelling

__all__ = [
    "QState",
    "bandit2arm_delta",
    "StickyQState",
    "get",
    "list",
    "list_models",
    "register",
    "rescorla_wagner",
    "rescorla_wagner_asymmetric",
    "rescorla_wagner_perseveration",
]
