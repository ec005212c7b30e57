"""The plug-in contract: a learning model is a parameter table and three pure functions.

- ``init_state(n_options, params) -> State``: a NamedTuple of arrays for one participant;
- ``policy(state, params, trial) -> logits``: shape ``(option,)``, before feedback;
- ``update(state, params, trial) -> State``: the learning rule once choice and outcome are seen.

Optionally, ``latents(state, params, trial, next_state) -> {name: scalar}`` names the
trial-wise quantities a model-based analysis wants (prediction error, chosen value,
associability...). Without it, a model whose state has a value vector ``q`` (one entry per
option) and whose trials have an ``outcome`` reports ``chosen_value`` and
``prediction_error`` (:func:`default_latents`).

``params`` is a NamedTuple with one scalar per parameter (``params.alpha``) and ``trial`` a
NamedTuple with one trial's fields (``trial.choice``, ``trial.outcome``, ``trial.valid``,
``trial.block_start`` and any other column the model lists). No batch axes: the engine adds
``lax.scan`` over trials and ``vmap`` over participants. Use ``jnp.where`` rather than a
Python ``if`` on traced values.

A trial may hold several choices made one after the other (the two-step task: a first-stage
choice, a transition, a second-stage choice). Such a model lists its :class:`Stage` s:
``trial.choice`` is then an int vector, one entry per stage, and ``policy`` returns one logit
vector per stage (a tuple). Stage ``k``'s logits may depend on the choices of stages before
``k`` (``trial.choice[j]``, ``j < k``), never on later ones: a simulation draws the stages in
order, calling ``policy`` again after each draw. A stage whose options come in groups (the
second-stage options of each state) has one group offered on each trial, by the environment
(the transition); the choice is made, and scored, among the offered group's options.
"""

from __future__ import annotations

import dataclasses
import functools
import keyword
from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .transforms import Parameter

#: Fields every trial carries, whatever the model.
BASE_TRIAL_FIELDS = ("choice", "valid", "block_start")

#: The trial loops a model may ask for (:attr:`Model.trial_loop`).
TRIAL_LOOPS = ("scan", "associative")


@dataclass(frozen=True)
class Stage:
    """One of several choices made on each trial (a multi-stage task such as the two-step task).

    Parameters
    ----------
    column : str
        The data column holding this stage's choice (e.g. ``"level1_choice"``).
    n_options : int
        Number of options at this stage (at least 2).
    groups : tuple of int, optional
        The group of each option when the environment offers one group per trial and the choice
        is made within it: hBayesDM codes the second-stage choice of the two-step task 1-4, options
        1-2 in the state reached after a first-stage choice of 1 (commonly), 3-4 in the other,
        so ``groups=(0, 0, 1, 1)``. The likelihood normalises the choice probabilities within the
        group of the observed choice (the offered one); a task environment says which group it
        offers (:attr:`bayesrl.tasks.Task.offer`). None: every option is offered on every trial.
    """

    column: str
    n_options: int
    groups: tuple[int, ...] | None = None

    def __post_init__(self):
        if not str(self.column).isidentifier():
            raise ValueError(f"Stage column {self.column!r} must be a Python identifier")
        if isinstance(self.n_options, bool) or int(self.n_options) != self.n_options or self.n_options < 2:
            raise ValueError(f"Stage {self.column!r}: n_options must be a whole number >= 2, got {self.n_options!r}")
        object.__setattr__(self, "n_options", int(self.n_options))
        if self.groups is not None:
            groups = tuple(int(g) for g in self.groups)
            if len(groups) != self.n_options or min(groups) < 0:
                raise ValueError(
                    f"Stage {self.column!r}: groups must give a non-negative group for each of its "
                    f"{self.n_options} options, got {self.groups!r}"
                )
            object.__setattr__(self, "groups", groups)

    @property
    def n_groups(self) -> int:
        """Number of option groups (1 when every option is always offered)."""
        return 1 if self.groups is None else max(self.groups) + 1


def field_name(name: str) -> str:
    """The NamedTuple field for a parameter name: Python keywords get a trailing underscore.

    hBayesDM has a parameter called ``lambda``; inside ``policy``/``update`` it is
    ``params.lambda_``, everywhere else (priors, posterior, saved fits) ``lambda``.
    """
    return f"{name}_" if keyword.iskeyword(name) else name


@functools.cache
def record_type(name: str, fields: tuple[str, ...]) -> type:
    """A NamedTuple type with the given fields (cached so equal fields give one type)."""
    return namedtuple(name, fields)


def find_field(state, name: str):
    """The field ``name`` of a state, looking through wrappers' ``base`` fields; None when absent.

    Variants such as :func:`bayesrl.models.with_perseveration` wrap the base model's state as
    ``State(base=..., ...)``; this finds ``state.base.q`` as well as ``state.q``.
    """
    fields = getattr(state, "_fields", ())
    if name in fields:
        return getattr(state, name)
    if "base" in fields:
        return find_field(state.base, name)
    return None


def default_latents(model, state, params, trial, next_state) -> dict:
    """The latents of a model that defines none: chosen value and prediction error of a value vector ``q``.

    Parameters
    ----------
    model : Model
    state : the State the choice is made from
    params : Params NamedTuple of scalars
    trial : Trial NamedTuple of scalars
    next_state : the State after ``update``

    Returns
    -------
    dict of str to scalar
        ``{"chosen_value": q[choice], "prediction_error": outcome - q[choice]}`` when the state
        holds ``q`` of shape ``(option,)`` and the trial an ``outcome``; else empty.
    """
    q = find_field(state, "q")
    if q is None or "outcome" not in trial._fields or tuple(q.shape) != (model.n_options,):
        return {}
    chosen = q[trial.choice]
    return {"chosen_value": chosen, "prediction_error": trial.outcome - chosen}


@dataclass(frozen=True, eq=False)  # hashed by identity: a model is a static argument of jit
class Model:
    """A learning model: parameters plus ``init_state``, ``policy`` and ``update``.

    Parameters
    ----------
    name : str
        Name shown in summaries and stored with saved fits.
    params : mapping of str to Parameter
        Parameter names and constraints, e.g. ``{"alpha": brl.unit(), "beta": brl.positive(upper=10)}``.
    init_state : callable
        ``init_state(n_options, params) -> State`` for one participant (a NamedTuple of arrays).
    policy : callable
        ``policy(state, params, trial) -> logits``, logits of shape ``(option,)``; for a model with
        ``stages``, a tuple with one logit vector per stage, shape ``(stage.n_options,)``.
    update : callable
        ``update(state, params, trial) -> State``.
    n_options : int, default 2
        Number of options the choice is made among. With ``stages``, the largest stage's
        (set from the stages, whatever is passed).
    columns : tuple of str, default ("outcome",)
        Trial columns the model reads besides ``choice`` (they become fields of ``trial``).
    choice_base : {None, 0, 1}
        How the model's choices are coded in data when it is fixed by the task (e.g. hBayesDM's
        probabilistic selection task codes "chose the first option of the pair" as 1, else 0);
        None lets the data decide.
    description, citation : str
        Shown by :func:`bayesrl.models.list` and in saved fits.
    options : mapping
        Keyword arguments that rebuild a library model (``bayesrl.models.<name>(**options)``);
        empty for custom models.
    latents : callable, optional
        ``latents(state, params, trial, next_state) -> {name: scalar}``: trial-wise quantities
        for model-based analyses (e.g. ``{"prediction_error": ..., "associability": ...}``),
        from the state the choice was made from and the state after ``update``. Reported by
        :meth:`bayesrl.Fit.latents` beside the state's fields and the choice probabilities;
        NaN on trials without a choice. None uses :func:`default_latents`.
    inputs : tuple of str, default ()
        The ``columns`` whose values do not depend on the choice (a cue, the pair offered,
        outcomes shown for every option). A generative posterior predictive simulation can
        replay these from the data; any other column is feedback to the choice (the outcome of
        the chosen option) and needs a task environment to be simulated.
    linear_update : callable, optional
        For a model whose ``update`` is affine in the state (plain Rescorla-Wagner):
        ``linear_update(params, trial) -> (decay, drive)``, two State-shaped NamedTuples with
        ``update(state, params, trial) == decay * state + drive`` field by field for every
        state. The trial loop can then run as a parallel prefix (``lax.associative_scan``,
        :func:`bayesrl.engine.associative_scan_trials`, ``trial_loop="associative"``) instead of
        a sequential ``lax.scan``. ``update`` stays the definition (simulation uses it); the
        registry tests check that the two agree.
    trial_loop : {"scan", "associative"}, default "scan"
        The trial loop: a sequential ``lax.scan``, or, for a model with ``linear_update``, a
        parallel prefix (``lax.associative_scan``). On 2 CPU cores the associative scan was
        faster only at 5 participants x 100 trials (``benchmarks/bench_trial_loop.py``), so it
        is opt-in:
        ``dataclasses.replace(model, trial_loop="associative")`` where it measures faster.

    Examples
    --------
    The seed guide's asymmetric learning rates, written by a user::

        import jax.numpy as jnp
        from typing import NamedTuple

        class Q(NamedTuple):
            q: jnp.ndarray  # (option,)

        def update(state, p, trial):
            pe = trial.outcome - state.q[trial.choice]
            lr = jnp.where(pe >= 0, p.alpha_pos, p.alpha_neg)
            return Q(state.q.at[trial.choice].add(lr * pe))

        model = brl.Model(
            name="my_rw",
            params={"alpha_pos": brl.unit(), "alpha_neg": brl.unit(), "beta": brl.positive(upper=10)},
            init_state=lambda n, p: Q(jnp.zeros(n)),
            policy=lambda s, p, t: p.beta * s.q,
            update=update,
        )
    """

    name: str
    params: Mapping[str, Parameter]
    init_state: Callable[..., Any]
    policy: Callable[..., Any]
    update: Callable[..., Any]
    n_options: int = 2
    columns: tuple[str, ...] = ("outcome",)
    choice_base: int | None = None
    description: str = ""
    citation: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    latents: Callable[..., Mapping[str, Any]] | None = None
    inputs: tuple[str, ...] = ()
    stages: tuple[Stage, ...] = ()
    linear_update: Callable[..., Any] | None = None
    trial_loop: str = "scan"

    def __post_init__(self):
        if not self.params:
            raise ValueError(f"model {self.name!r} declares no parameters")
        for pname, spec in self.params.items():
            if not isinstance(spec, Parameter):
                raise TypeError(
                    f"parameter {pname!r} of model {self.name!r} must be built with brl.unit(), "
                    f"brl.positive(), brl.bounded() or brl.real(), got {type(spec).__name__}"
                )
            if not pname.isidentifier() or pname.startswith("_"):
                raise ValueError(f"parameter name {pname!r} must be a Python identifier")
        object.__setattr__(self, "stages", tuple(self.stages))
        if self.stages:
            bad = [s for s in self.stages if not isinstance(s, Stage)]
            if bad:
                raise TypeError(f"stages of model {self.name!r} must be brl.Stage(...), got {bad[0]!r}")
            names = [s.column for s in self.stages]
            if len(set(names)) != len(names) or set(names) & {*BASE_TRIAL_FIELDS, *self.columns}:
                raise ValueError(
                    f"stage columns {names} of model {self.name!r} must be distinct and differ from its "
                    f"columns {list(self.columns)} and {list(BASE_TRIAL_FIELDS)}"
                )
            object.__setattr__(self, "n_options", max(s.n_options for s in self.stages))
        if int(self.n_options) < 2:
            raise ValueError(f"n_options must be at least 2, got {self.n_options}")
        clash = set(self.columns) & set(BASE_TRIAL_FIELDS)
        if clash:
            raise ValueError(f"columns must not repeat the base trial fields {sorted(clash)}")
        object.__setattr__(self, "params", dict(self.params))
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        stray = [c for c in self.inputs if c not in self.columns]
        if stray:
            raise ValueError(f"inputs {stray} of model {self.name!r} are not among its columns {list(self.columns)}")
        if self.trial_loop not in TRIAL_LOOPS:
            raise ValueError(f"trial_loop of model {self.name!r} must be one of {TRIAL_LOOPS}, got {self.trial_loop!r}")
        if self.linear_update is not None and not callable(self.linear_update):
            raise TypeError(f"linear_update of model {self.name!r} must be a function or None")
        if self.trial_loop == "associative" and self.linear_update is None:
            raise ValueError(f"trial_loop='associative' needs a model with linear_update; {self.name!r} has none")
        if self.latents is not None and not callable(self.latents):
            raise TypeError(f"latents of model {self.name!r} must be a function or None")

    @property
    def param_names(self) -> tuple[str, ...]:
        """Parameter names in declaration order."""
        return tuple(self.params)

    @property
    def n_stages(self) -> int:
        """Choices per trial: ``len(stages)``, or 1 for a model without stages."""
        return len(self.stages) or 1

    @property
    def choice_columns(self) -> tuple[str, ...]:
        """The data columns holding the choices: the stages' columns, or ``("choice",)``."""
        return tuple(s.column for s in self.stages) or ("choice",)

    @property
    def params_type(self) -> type:
        """The NamedTuple type handed to ``policy``/``update`` as ``params`` (keywords get ``_``)."""
        return record_type("Params", tuple(field_name(k) for k in self.param_names))

    @property
    def trial_type(self) -> type:
        """The NamedTuple type handed to ``policy``/``update`` as ``trial``."""
        return record_type("Trial", BASE_TRIAL_FIELDS + self.columns)

    def trial_latents(self, state, params, trial, next_state) -> dict:
        """The model's trial-wise latents: its ``latents`` function, or :func:`default_latents`.

        Parameters
        ----------
        state : State
            The state the choice is made from (after a block-start reset).
        params : Params NamedTuple of scalars
        trial : Trial NamedTuple of scalars
        next_state : State
            The state after ``update``.

        Returns
        -------
        dict of str to scalar
        """
        if self.latents is None:
            return default_latents(self, state, params, trial, next_state)
        return dict(self.latents(state, params, trial, next_state))

    def make_params(self, values: Mapping[str, Any]):
        """Build the ``params`` NamedTuple from a mapping of name to value (any shape)."""
        return self.params_type(**{field_name(k): values[k] for k in self.param_names})

    def renamed(self, names: Mapping[str, str], name: str | None = None, **changes) -> Model:
        """A copy whose parameters are called differently (e.g. hBayesDM's names).

        Parameters
        ----------
        names : mapping of str to str
            ``{current name: new name}``; parameters not listed keep their names.
        name : str, optional
            The new model's name.
        **changes
            Other fields to replace (``options``, ``description``...).

        Returns
        -------
        Model
            Same functions; ``policy``/``update``/``init_state`` see the parameters under the
            original names.
        """
        unknown = sorted(set(names) - set(self.params))
        if unknown:
            raise ValueError(f"renamed(): {unknown} are not parameters of {self.name!r} ({list(self.params)})")
        new_of = {k: names.get(k, k) for k in self.params}
        inner_type = self.params_type

        def translate(p):
            return inner_type(**{field_name(old): getattr(p, field_name(new)) for old, new in new_of.items()})

        init_state, policy, update, latents = self.init_state, self.policy, self.update, self.latents
        linear = self.linear_update
        return dataclasses.replace(
            self,
            name=name or self.name,
            params={new_of[k]: v for k, v in self.params.items()},
            init_state=lambda n, p: init_state(n, translate(p)),
            policy=lambda s, p, t: policy(s, translate(p), t),
            update=lambda s, p, t: update(s, translate(p), t),
            latents=None if latents is None else (lambda s, p, t, n: latents(s, translate(p), t, n)),
            linear_update=None if linear is None else (lambda p, t: linear(translate(p), t)),
            **changes,
        )

    def __repr__(self) -> str:
        ps = ", ".join(f"{k} {v.describe()}" for k, v in self.params.items())
        stages = f", stages: {self.choice_columns}" if self.stages else ""
        return f"Model({self.name!r}, n_options={self.n_options}, params: {ps}, columns: {self.columns}{stages})"
