"""Probabilistic selection task (PST): Q-learning over stimuli, a choice between the two offered."""

from __future__ import annotations

import jax.numpy as jnp

from .. import learning
from ..model import Model
from ..transforms import bounded, unit
from ._common import QState
from ._registry import register


def pst_pair(type_code, n_stimuli: int):
    """The two stimuli offered on a PST trial, 0-based, from hBayesDM's two-digit ``type`` code.

    Parameters
    ----------
    type_code : float scalar
        ``10 * first + second`` with stimuli numbered from 1 (e.g. 12, 34, 56); 0 on masked trials.
    n_stimuli : int
        Number of stimuli; indices are clipped to ``0..n_stimuli-1`` so masked trials stay finite.

    Returns
    -------
    first, second : int32 scalars
        0-based stimulus indices of the first (tens digit) and second (ones digit) option.
    """
    code = jnp.round(type_code).astype(jnp.int32)
    first = jnp.clip(code // 10 - 1, 0, n_stimuli - 1)
    second = jnp.clip(code % 10 - 1, 0, n_stimuli - 1)
    return first, second


def _pst_policy(n_stimuli):
    def policy(state, p, trial):
        first, second = pst_pair(trial.type, n_stimuli)
        # index 0: chose the second option (choice 0), index 1: chose the first (choice 1)
        return p.beta * jnp.stack([state.q[second], state.q[first]])

    return policy


def _chosen_stimulus(trial, n_stimuli):
    first, second = pst_pair(trial.type, n_stimuli)
    return jnp.where(trial.choice == 1, first, second)


def _latents(n_stimuli):
    def latents(state, p, trial, next_state):
        chosen = state.q[_chosen_stimulus(trial, n_stimuli)]
        return {"chosen_value": chosen, "prediction_error": trial.outcome - chosen}

    return latents


def _init(n_stimuli, initial_value):
    return lambda n, p: QState(jnp.full((n_stimuli,), initial_value, dtype=jnp.result_type(float)))


def _check_n_stimuli(n_stimuli):
    if not 2 <= int(n_stimuli) <= 9:
        raise ValueError(f"n_stimuli must be 2..9 (one digit per stimulus in the 'type' code), got {n_stimuli}")
    return int(n_stimuli)


@register
def pst_Q(*, n_stimuli: int = 6, beta_max: float = 10.0, initial_value: float = 0.0) -> Model:  # noqa: N802
    r"""HBayesDM's ``pst_Q``: Q-learning in the probabilistic selection task.

    On each trial two of the stimuli are offered, ``type = 10 * first + second`` (12, 34, 56
    in the training phase). The learner holds a value ``Q(s)`` for every stimulus:

    .. math::

        P(\text{chose first}) = \mathrm{logistic}\big(\beta\,(Q_t(s_1) - Q_t(s_2))\big), \qquad
        Q_{t+1}(s_c) = Q_t(s_c) + \alpha\,(r_t - Q_t(s_c))

    where ``s_c`` is the chosen stimulus; the other values are unchanged. Latents
    (:meth:`bayesrl.Fit.latents`): the six stimulus values ``q_1`` ... ``q_6`` (numbered as in
    ``type``), ``chosen_value`` :math:`Q_t(s_c)` and ``prediction_error`` :math:`r_t - Q_t(s_c)`. The logits over the
    two choices are ``[beta * Q(s_2), beta * Q(s_1)]``, ordered as the 0-based choice codes
    (0 = chose the second option, 1 = chose the first), so the choice is a softmax over the pair.

    Parameters
    ----------
    n_stimuli : int, default 6
        Number of stimuli (2..9, one digit each in ``type``).
    beta_max : float, default 10
        Upper bound of the inverse temperature (hBayesDM: 10).
    initial_value : float, default 0
        Initial value of every stimulus (hBayesDM: 0).

    Notes
    -----
    Parameters: ``alpha`` learning rate [0, 1]; ``beta`` inverse temperature [0, 10]
    (hBayesDM's names, ``Phi_approx`` links, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``).

    Columns: ``participant`` (``subjID``), ``type`` (the pair offered), ``choice`` (1 = chose
    the first option of the pair, 0 = the second; the coding is fixed, ``choice_base=0``),
    ``outcome`` (alias ``reward``); optional ``trial`` and ``block`` (values reset at a block
    start; hBayesDM has no blocks). hBayesDM models the training (feedback) phase only; so
    does this model: every trial with a choice needs an outcome. As in hBayesDM's Stan code,
    the outcome is used as it is (any real number), and a ``type`` whose digits name a
    stimulus outside ``1..n_stimuli`` is not rejected (indices are clipped).

    References
    ----------
    Frank, M. J., Seeberger, L. C., & O'Reilly, R. C. (2004). By carrot or by stick: cognitive
    reinforcement learning in parkinsonism. *Science*, 306, 1940-1943.
    Frank, M. J., Moustafa, A. A., Haughey, H. M., Curran, T., & Hutchison, K. E. (2007).
    Genetic triple dissociation reveals multiple roles for dopamine in reinforcement learning.
    *PNAS*, 104, 16311-16316.
    """
    n_stimuli = _check_n_stimuli(n_stimuli)

    def update(state, p, trial):
        return QState(learning.delta_rule(state.q, _chosen_stimulus(trial, n_stimuli), trial.outcome, p.alpha))

    return Model(
        name="pst_Q",
        params={"alpha": unit(), "beta": bounded(0.0, beta_max)},
        init_state=_init(n_stimuli, initial_value),
        policy=_pst_policy(n_stimuli),
        update=update,
        latents=_latents(n_stimuli),
        n_options=2,
        columns=("type", "outcome"),
        inputs=("type",),
        choice_base=0,
        description="PST: Q-learning over stimuli, softmax between the two offered (hBayesDM pst_Q)",
        citation="Frank et al. (2004, 2007); hBayesDM pst_Q",
        options={"n_stimuli": n_stimuli, "beta_max": beta_max, "initial_value": initial_value},
    )


@register
def pst_gainloss_Q(*, n_stimuli: int = 6, beta_max: float = 10.0, initial_value: float = 0.0) -> Model:  # noqa: N802
    r"""HBayesDM's ``pst_gainloss_Q``: PST Q-learning with separate gain and loss learning rates.

    As :func:`pst_Q`, with the learning rate chosen by the sign of the prediction error:

    .. math::

        \delta_t = r_t - Q_t(s_c), \qquad
        Q_{t+1}(s_c) = Q_t(s_c) + (\alpha_{+}[\delta_t \ge 0] + \alpha_{-}[\delta_t < 0])\,\delta_t,
        \qquad P(\text{chose first}) = \mathrm{logistic}\big(\beta\,(Q_t(s_1) - Q_t(s_2))\big)

    A zero prediction error uses ``alpha_pos``, as in hBayesDM's Stan code (``pe >= 0``).

    Parameters
    ----------
    n_stimuli : int, default 6
    beta_max : float, default 10
    initial_value : float, default 0

    Notes
    -----
    Parameters: ``alpha_pos`` learning rate for positive prediction errors [0, 1];
    ``alpha_neg`` for negative ones [0, 1]; ``beta`` inverse temperature [0, 10].
    Columns: ``participant``, ``type``, ``choice`` (1 = first option of the pair, 0 = second),
    ``outcome`` (alias ``reward``); see :func:`pst_Q`.

    References
    ----------
    Frank, M. J., Moustafa, A. A., Haughey, H. M., Curran, T., & Hutchison, K. E. (2007).
    Genetic triple dissociation reveals multiple roles for dopamine in reinforcement learning.
    *PNAS*, 104, 16311-16316.
    """
    n_stimuli = _check_n_stimuli(n_stimuli)

    def update(state, p, trial):
        chosen = _chosen_stimulus(trial, n_stimuli)
        return QState(learning.asymmetric_delta_rule(state.q, chosen, trial.outcome, p.alpha_pos, p.alpha_neg))

    return Model(
        name="pst_gainloss_Q",
        params={"alpha_pos": unit(), "alpha_neg": unit(), "beta": bounded(0.0, beta_max)},
        init_state=_init(n_stimuli, initial_value),
        policy=_pst_policy(n_stimuli),
        update=update,
        latents=_latents(n_stimuli),
        n_options=2,
        columns=("type", "outcome"),
        inputs=("type",),
        choice_base=0,
        description="PST: Q-learning with gain/loss learning rates (hBayesDM pst_gainloss_Q)",
        citation="Frank et al. (2007); hBayesDM pst_gainloss_Q",
        options={"n_stimuli": n_stimuli, "beta_max": beta_max, "initial_value": initial_value},
    )
