"""Task environments for simulation: what a participant sees and what their choice earns.

A :class:`Task` gives per-trial inputs known before the choice (``inputs``, e.g. a cue or the
pair of options offered) and a pure function ``respond(key, t, choice) -> {field: value}``
for the feedback (e.g. ``outcome``). Both become fields of the ``trial`` the model sees.
Each family of tasks lives in its own module.
"""

from ._bandit import bandit, reversal_schedule
from ._base import Task
from ._drift import drifting_bandit, drifting_means
from ._gainloss import gain_loss_bandit, random_walk_probabilities
from ._gng import go_nogo
from ._igt import igt, igt_schedule
from ._pst import pst
from ._reversal import probabilistic_reversal
from ._twostep import two_step

__all__ = [
    "Task",
    "bandit",
    "drifting_bandit",
    "drifting_means",
    "gain_loss_bandit",
    "go_nogo",
    "igt",
    "igt_schedule",
    "random_walk_probabilities",
    "probabilistic_reversal",
    "pst",
    "reversal_schedule",
    "two_step",
]
