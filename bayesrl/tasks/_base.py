"""The task-environment type shared by all tasks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Task:
    """A task environment.

    Attributes
    ----------
    name : str
    n_options : int or tuple of int
        Options of the choice; one count per stage for a task with several choices per trial
        (the two-step task: ``(2, 4)``).
    n_trials : int
    respond : callable
        ``respond(key, t, choice) -> dict`` of scalar feedback fields (JAX-traceable); with
        several stages ``choice`` is the int vector of the trial's choices, shape (stage,).
    outcome_fields : tuple of str
        Names of the fields ``respond`` returns.
    inputs : dict of str to numpy.ndarray, each shape (trial,)
        Fields known before the choice.
    block_start : numpy.ndarray of bool, shape (trial,)
        Trials at which the learner's state resets.
    offer : callable, optional
        ``offer(key, t, stage, choice) -> int``: for a stage whose options come in groups
        (:class:`bayesrl.Stage`), the group the environment offers on trial ``t``, given the
        choices of the earlier stages (``choice[:stage]``; JAX-traceable). The two-step task's
        transition: the second-stage state reached after the first-stage choice.
    """

    name: str
    n_options: int
    n_trials: int
    respond: Callable
    outcome_fields: tuple
    inputs: Mapping = field(default_factory=dict)
    block_start: np.ndarray | None = None
    offer: Callable | None = None

    def provides(self) -> tuple:
        """Every trial field this task supplies."""
        return (*self.inputs, *self.outcome_fields)
