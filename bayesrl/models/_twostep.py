r"""Two-step task family (Daw et al. 2011): hybrid model-based / model-free learning, two choices per trial.

hBayesDM's ``ts_par4``, ``ts_par6`` and ``ts_par7``. Each trial has two choices (two
:class:`~bayesrl.Stage` s): a first-stage choice :math:`a_1 \in \{1, 2\}` (``level1_choice``),
a transition to a second-stage state :math:`s \in \{A, B\}` (common, probability
``trans_prob`` = 0.7: 1 -> A, 2 -> B), and a second-stage choice between the state's two
options (``level2_choice``: 1-2 in A, 3-4 in B), which pays ``reward`` (0/1). The learner keeps
model-free values :math:`Q_1(a)` of the first-stage options and :math:`Q_2(s, b)` of the
second-stage options (all 0 at the start and at each block start), and values the first
stage by a mix of model-based foresight and model-free habit:

.. math::

    Q_{MB}(a) = \sum_s P(s \mid a) \max_b Q_2(s, b), \qquad
    Q_{H}(a) = w\,Q_{MB}(a) + (1 - w)\,Q_1(a),

    \text{logit}_1(a) = \beta_1\,Q_H(a) + \pi\,[a = a_1^{prev}], \qquad
    \text{logit}_2(b) = \beta_2\,Q_2(s, b),

with :math:`a_1^{prev}` the previous (valid) trial's first-stage choice (no bonus on the first
trial of a block). The second-stage probabilities are normalised over the reached state's two
options (``Stage.groups``), so the likelihood is :math:`P(a_1)\,P(b \mid s)`, the two stages
observed one after the other. After the trial, in hBayesDM's order:

.. math::

    Q_1(a_1) &\leftarrow Q_1(a_1) + \alpha_1\,(Q_2(s, b) - Q_1(a_1)), \\
    Q_2(s, b) &\leftarrow Q_2(s, b) + \alpha_2\,(r - Q_2(s, b)), \\
    Q_1(a_1) &\leftarrow Q_1(a_1) + \lambda\,\alpha_1\,(r - Q_2(s, b)),

the last line using the already updated :math:`Q_2(s, b)` (as hBayesDM's Stan code does;
Daw et al.'s eligibility trace uses the prediction error before the second-stage update).
``ts_par4`` has one learning rate :math:`\alpha` and one inverse temperature :math:`\beta` for
both stages and :math:`\lambda = 1`; ``ts_par6`` separates them by stage; ``ts_par7`` adds the
eligibility trace :math:`\lambda`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from .. import learning
from ..model import Model, Stage
from ..transforms import Prior, bounded, positive, unit
from ._registry import register

#: The two stages in hBayesDM's coding: ``level2_choice`` 1-2 are the options of state A, 3-4 of state B.
STAGES = (Stage("level1_choice", 2), Stage("level2_choice", 4, groups=(0, 0, 1, 1)))

#: hBayesDM's inverse temperatures: ``exp`` link with ``sigma ~ normal(0, 0.2)`` (not the library's 1.0).
_TEMPERATURE = positive(prior=Prior())

_CITATION = "Daw et al. (2011)"
_REFERENCE = """
    Daw, N. D., Gershman, S. J., Seymour, B., Dayan, P., & Dolan, R. J. (2011). Model-based
    influences on humans' choices and striatal prediction errors. *Neuron*, 69(6), 1204-1215.
"""


class TwoStepState(NamedTuple):
    """Model-free values of both stages and the previous first-stage choice."""

    q1: jnp.ndarray  # (2,) first-stage options
    q2: jnp.ndarray  # (state, option) = (2, 2) second-stage options
    last_choice: jnp.ndarray  # () int, previous first-stage choice, -1 before the first


def _check_trans_prob(trans_prob) -> float:
    if isinstance(trans_prob, bool) or not 0.0 <= float(trans_prob) <= 1.0:
        raise ValueError(f"trans_prob must be a probability in [0, 1] (hBayesDM: 0.7), got {trans_prob!r}")
    return float(trans_prob)


def _ts_model(name, params, *, rates, temperatures, trace, trans_prob, description):
    """One two-step model: ``rates(p) -> (alpha1, alpha2)``, ``temperatures(p) -> (beta1, beta2)``, ``trace(p)``."""
    trans_prob = _check_trans_prob(trans_prob)
    transition = jnp.asarray([[trans_prob, 1.0 - trans_prob], [1.0 - trans_prob, trans_prob]])

    def init(n, p):
        dtype = jnp.result_type(float)
        return TwoStepState(jnp.zeros((2,), dtype), jnp.zeros((2, 2), dtype), jnp.asarray(-1, jnp.int32))

    def model_based(s):
        # an elementwise product and sum, not ``transition @ best``: a matrix product inside the
        # trial loop made the fit's gradient 1.25-1.4x slower (``benchmarks/README.md``, two-step)
        return (transition * s.q2.max(axis=1)[None, :]).sum(axis=1)

    def hybrid(s, p):
        return p.w * model_based(s) + (1.0 - p.w) * s.q1

    def policy(s, p, t):
        beta1, beta2 = temperatures(p)
        stay = p.pi * (jnp.arange(2) == s.last_choice)
        return beta1 * hybrid(s, p) + stay, beta2 * s.q2.reshape(4)

    def update(s, p, t):
        alpha1, alpha2 = rates(p)
        first, option = t.choice[0], t.choice[1]  # option = state * 2 + second-stage choice
        q2 = s.q2.reshape(4)
        value = learning.chosen(q2, option)
        q1 = learning.add_at(s.q1, first, alpha1 * (value - learning.chosen(s.q1, first)))
        reached = value + alpha2 * (t.outcome - value)
        q1 = learning.add_at(q1, first, trace(p) * alpha1 * (t.outcome - reached))
        return TwoStepState(q1, learning.set_at(q2, option, reached).reshape(2, 2), first.astype(jnp.int32))

    def latents(s, p, t, n):
        first, state, second = t.choice[0], t.choice[1] // 2, t.choice[1] % 2
        return {
            "value_hybrid_chosen": hybrid(s, p)[first],
            "value_mb_chosen": model_based(s)[first],
            "value_mf_chosen": s.q1[first],
            "value_stage2_chosen": s.q2[state, second],
            "prediction_error_1": s.q2[state, second] - s.q1[first],
            "prediction_error_2": t.outcome - s.q2[state, second],
            "state": state + 1,
            "common": (state == first).astype(jnp.result_type(float)),
        }

    return Model(
        name=name,
        params=params,
        init_state=init,
        policy=policy,
        update=update,
        latents=latents,
        stages=STAGES,
        columns=("outcome",),
        description=description,
        citation=f"{_CITATION}; hBayesDM {name}",
        options={"trans_prob": trans_prob},
    )


def _same_rate(p):
    return p.a, p.a


def _stage_rates(p):
    return p.a1, p.a2


def _same_temperature(p):
    return p.beta, p.beta


def _stage_temperatures(p):
    return p.beta1, p.beta2


def _full_trace(p):
    return 1.0


def _trace(p):
    return p.lambda_


_COLUMNS_DOC = """
    Columns (hBayesDM's ``ts_exampleData.txt`` reads unchanged): ``participant`` (``subjID``),
    ``level1_choice`` (1 or 2), ``level2_choice`` (1-4: 1-2 the options of the state commonly
    reached from 1, 3-4 of the other), ``outcome`` (``reward``, 0/1; any number works);
    optional ``trial``, ``block``. A trial missing either choice is masked whole (Daw et al.
    discard trials with a missed choice); the perseveration bonus then refers to the last
    trial with both choices. Simulate with :func:`bayesrl.tasks.two_step`.
"""


@register
def ts_par4(trans_prob: float = 0.7) -> Model:
    r"""HBayesDM's ``ts_par4``: hybrid model-based / model-free two-step model, 4 parameters (Daw et al. 2011).

    One learning rate and one inverse temperature for both stages, :math:`\lambda = 1`:

    .. math::

        \text{logit}_1(a) = \beta\,[w\,Q_{MB}(a) + (1 - w)\,Q_1(a)] + \pi\,[a = a_1^{prev}], \qquad
        \text{logit}_2(b) = \beta\,Q_2(s, b),

        Q_1(a_1) \leftarrow Q_1(a_1) + \alpha\,(Q_2(s, b) - Q_1(a_1)), \quad
        Q_2(s, b) \leftarrow Q_2(s, b) + \alpha\,(r - Q_2(s, b)), \quad
        Q_1(a_1) \leftarrow Q_1(a_1) + \alpha\,(r - Q_2(s, b)),

    with :math:`Q_{MB}(a) = \sum_s P(s \mid a) \max_b Q_2(s, b)` and the second stage
    normalised over the reached state's options (see :mod:`bayesrl.models._twostep`).
    Latents (:meth:`bayesrl.Fit.latents`): the state's ``q1_*``, ``q2_*_*``, ``last_choice``;
    ``value_hybrid_chosen``, ``value_mb_chosen``, ``value_mf_chosen`` (first stage),
    ``value_stage2_chosen``, ``prediction_error_1`` (:math:`Q_2(s, b) - Q_1(a_1)`),
    ``prediction_error_2`` (:math:`r - Q_2(s, b)`), ``state`` (1 = A, 2 = B) and ``common``
    (1 for a common transition).

    Parameters
    ----------
    trans_prob : float, default 0.7
        Probability of the common transition (hBayesDM's ``trans_prob``).

    Notes
    -----
    Parameters (hBayesDM names, bounds and priors, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``):

    - ``a``: learning rate, [0, 1], ``Phi_approx`` link;
    - ``beta``: inverse temperature, positive, ``exp`` link;
    - ``pi``: perseveration, [0, 5], ``5 * Phi_approx``;
    - ``w``: model-based weight, [0, 1], ``Phi_approx``.
    {columns}
    hBayesDM's ``log_lik`` of ``ts_par4`` (its generated quantities) applies the first
    first-stage update twice per trial, unlike its model block; this model follows the model
    block (the likelihood hBayesDM samples).

    References
    ----------
    {reference}
    """
    return _ts_model(
        "ts_par4",
        {"a": unit(), "beta": _TEMPERATURE, "pi": bounded(0.0, 5.0), "w": unit()},
        rates=_same_rate,
        temperatures=_same_temperature,
        trace=_full_trace,
        trans_prob=trans_prob,
        description="two-step: hybrid model-based/model-free, one rate and temperature, perseveration "
        "(hBayesDM ts_par4)",
    )


@register
def ts_par6(trans_prob: float = 0.7) -> Model:
    r"""HBayesDM's ``ts_par6``: :func:`ts_par4` with a rate and an inverse temperature per stage (Daw et al. 2011).

    .. math::

        \text{logit}_1(a) = \beta_1\,[w\,Q_{MB}(a) + (1 - w)\,Q_1(a)] + \pi\,[a = a_1^{prev}], \qquad
        \text{logit}_2(b) = \beta_2\,Q_2(s, b),

        Q_1(a_1) \leftarrow Q_1(a_1) + \alpha_1\,(Q_2(s, b) - Q_1(a_1)), \quad
        Q_2(s, b) \leftarrow Q_2(s, b) + \alpha_2\,(r - Q_2(s, b)), \quad
        Q_1(a_1) \leftarrow Q_1(a_1) + \alpha_1\,(r - Q_2(s, b)).

    Latents as :func:`ts_par4`.

    Parameters
    ----------
    trans_prob : float, default 0.7
        Probability of the common transition (hBayesDM's ``trans_prob``).

    Notes
    -----
    Parameters (hBayesDM names, bounds and priors, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``):

    - ``a1``, ``a2``: first- and second-stage learning rates, [0, 1], ``Phi_approx``;
    - ``beta1``, ``beta2``: first- and second-stage inverse temperatures, positive, ``exp``;
    - ``pi``: perseveration, [0, 5], ``5 * Phi_approx``;
    - ``w``: model-based weight, [0, 1], ``Phi_approx``.
    {columns}

    References
    ----------
    {reference}
    """
    return _ts_model(
        "ts_par6",
        {
            "a1": unit(),
            "beta1": _TEMPERATURE,
            "a2": unit(),
            "beta2": _TEMPERATURE,
            "pi": bounded(0.0, 5.0),
            "w": unit(),
        },
        rates=_stage_rates,
        temperatures=_stage_temperatures,
        trace=_full_trace,
        trans_prob=trans_prob,
        description="two-step: ts_par4 with rates and temperatures per stage (hBayesDM ts_par6)",
    )


@register
def ts_par7(trans_prob: float = 0.7) -> Model:
    r"""HBayesDM's ``ts_par7``: :func:`ts_par6` plus an eligibility trace ``lambda`` (Daw et al. 2011).

    .. math::

        \text{logit}_1(a) = \beta_1\,[w\,Q_{MB}(a) + (1 - w)\,Q_1(a)] + \pi\,[a = a_1^{prev}], \qquad
        \text{logit}_2(b) = \beta_2\,Q_2(s, b),

        Q_1(a_1) \leftarrow Q_1(a_1) + \alpha_1\,(Q_2(s, b) - Q_1(a_1)), \quad
        Q_2(s, b) \leftarrow Q_2(s, b) + \alpha_2\,(r - Q_2(s, b)), \quad
        Q_1(a_1) \leftarrow Q_1(a_1) + \lambda\,\alpha_1\,(r - Q_2(s, b)).

    Latents as :func:`ts_par4`.

    Parameters
    ----------
    trans_prob : float, default 0.7
        Probability of the common transition (hBayesDM's ``trans_prob``).

    Notes
    -----
    Parameters (hBayesDM names, bounds and priors, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``):

    - ``a1``, ``a2``: first- and second-stage learning rates, [0, 1], ``Phi_approx``;
    - ``beta1``, ``beta2``: first- and second-stage inverse temperatures, positive, ``exp``;
    - ``pi``: perseveration, [0, 5], ``5 * Phi_approx``;
    - ``w``: model-based weight, [0, 1], ``Phi_approx``;
    - ``lambda``: eligibility trace, [0, 1], ``Phi_approx`` (``params.lambda_`` inside the model).
    {columns}

    ``lambda`` is weakly identified: in parameter recovery (30 participants, 150 or 400 trials;
    ``docs/recovery_twostep.md``) its estimates did not track the simulated values (r = -0.01
    and 0.13) while trading off with ``a1`` and ``w``. Compare its posterior with its prior, or
    fix it (``ts_par6`` is this model with ``lambda = 1``).

    References
    ----------
    {reference}
    """
    return _ts_model(
        "ts_par7",
        {
            "a1": unit(),
            "beta1": _TEMPERATURE,
            "a2": unit(),
            "beta2": _TEMPERATURE,
            "pi": bounded(0.0, 5.0),
            "w": unit(),
            "lambda": unit(),
        },
        rates=_stage_rates,
        temperatures=_stage_temperatures,
        trace=_trace,
        trans_prob=trans_prob,
        description="two-step: ts_par6 plus an eligibility trace (hBayesDM ts_par7)",
    )


for _factory in (ts_par4, ts_par6, ts_par7):
    _factory.__doc__ = _factory.__doc__.replace("{columns}", _COLUMNS_DOC).replace("{reference}", _REFERENCE)
