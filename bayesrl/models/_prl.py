r"""Probabilistic reversal learning (PRL): hBayesDM's ``prl_*`` models.

Six models built from four pieces written once here:

- :func:`fictitious_update`: both options learn on every trial, the unchosen one from the
  opposite of the outcome (Gläscher et al., 2009), with one learning rate or one per sign of
  the chosen prediction error;
- :func:`reward_punishment_update`: delta rule on the chosen option with a rate picked by the
  sign of the outcome (Ouden et al., 2013);
- :func:`ewa_update`: experience-weighted attraction (Ouden et al., 2013);
- :func:`indecision_logits`: the two-option logistic choice rule with an indecision point
  ``alpha``, ``P(first option) = 1 / (1 + exp(beta (alpha - (V_1 - V_2))))``.

Latents (:meth:`bayesrl.Fit.latents`): ``chosen_value`` and ``prediction_error`` of the chosen
option; the fictitious-update models add ``prediction_error_unchosen`` (:math:`-r_t - V_t(\bar c_t)`),
``prl_ewa`` reports ``chosen_value`` and ``chosen_experience`` (:math:`n_t(c_t)`).

hBayesDM's ``prl_*_multipleB`` models are these same models: they reset every value (all the
state holds) at the start of each block and keep the parameters, which is what the engine does
at each new value of the data's ``block`` column.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from .. import learning, policies
from ..model import Model
from ..transforms import Prior, bounded, real, unit
from ._common import QState
from ._registry import register

# hBayesDM's prl_fictitious*: the unbounded indecision point has sigma ~ half-Cauchy(0, 1).
_ALPHA = real(Prior(sigma_scale=1.0, sigma_family="halfcauchy"))


class EWAState(NamedTuple):
    """Values and experience weights of the experience-weighted attraction model."""

    ev: jnp.ndarray  # (option,) expected values
    ew: jnp.ndarray  # (option,) experience weights


# ---------------------------------------------------------------------------------------------
# Pieces: learning rules and the choice rule (one participant, one trial, two options)


def fictitious_update(ev, choice, outcome, eta_pos, eta_neg):
    r"""Fictitious update of both options of a two-option task.

    .. math::

        \delta_t = r_t - V_t(c_t), \qquad \delta^{nc}_t = -r_t - V_t(\bar c_t), \qquad
        \eta = \eta^{+}[\delta_t \ge 0] + \eta^{-}[\delta_t < 0]

        V_{t+1}(c_t) = V_t(c_t) + \eta\,\delta_t, \qquad
        V_{t+1}(\bar c_t) = V_t(\bar c_t) + \eta\,\delta^{nc}_t

    The rate is picked by the sign of the *chosen* option's prediction error and used for both
    options (as hBayesDM's ``prl_fictitious_rp`` does); pass ``eta_pos = eta_neg`` for one rate.

    Parameters
    ----------
    ev : array, shape (option,) with option = 2
    choice : int scalar, 0 or 1
    outcome : float scalar
    eta_pos, eta_neg : float scalars in [0, 1]

    Returns
    -------
    jax.Array, shape (option,)
    """
    other = 1 - choice
    pe = outcome - learning.chosen(ev, choice)
    pe_nc = -outcome - learning.chosen(ev, other)
    eta = jnp.where(pe >= 0, eta_pos, eta_neg)
    return learning.add_at(learning.add_at(ev, choice, eta * pe), other, eta * pe_nc)


def reward_punishment_update(ev, choice, outcome, a_rew, a_pun):
    r"""Delta rule on the chosen option, the rate picked by the sign of the outcome.

    .. math::

        V_{t+1}(c_t) = V_t(c_t) + (A_{rew}[r_t > 0] + A_{pun}[r_t \le 0])\,(r_t - V_t(c_t))

    Parameters
    ----------
    ev : array, shape (option,)
    choice : int scalar
    outcome : float scalar
    a_rew, a_pun : float scalars in [0, 1]

    Returns
    -------
    jax.Array, shape (option,)
    """
    return learning.delta_rule(ev, choice, outcome, jnp.where(outcome > 0, a_rew, a_pun))


def ewa_update(state, choice, outcome, phi, rho):
    r"""Experience-weighted attraction update of the chosen option.

    .. math::

        n_{t+1}(c_t) = \rho\, n_t(c_t) + 1, \qquad
        V_{t+1}(c_t) = \frac{\phi\, n_t(c_t)\, V_t(c_t) + r_t}{n_{t+1}(c_t)}

    Parameters
    ----------
    state : EWAState, fields shape (option,)
    choice : int scalar
    outcome : float scalar
    phi, rho : float scalars in [0, 1]

    Returns
    -------
    EWAState
    """
    ew_prev = learning.chosen(state.ew, choice)
    ew_new = rho * ew_prev + 1.0
    ev_new = (phi * ew_prev * learning.chosen(state.ev, choice) + outcome) / ew_new
    return EWAState(learning.set_at(state.ev, choice, ev_new), learning.set_at(state.ew, choice, ew_new))


def indecision_logits(ev, beta, alpha=0.0):
    r"""Two-option logistic choice rule with an indecision point.

    .. math::

        P(c_t = 1) = \frac{1}{1 + \exp(\beta\,(\alpha - (V_t(1) - V_t(2))))}

    returned as logits ``[beta (V_1 - V_2 - alpha), 0]``. ``alpha > 0`` favours the second
    option, ``alpha < 0`` the first; ``alpha = 0`` is a softmax over the two values.

    Parameters
    ----------
    ev : array, shape (option,) with option = 2
    beta : float scalar, the inverse temperature
    alpha : float scalar, the indecision point

    Returns
    -------
    jax.Array, shape (option,)
    """
    d = beta * (ev[0] - ev[1] - alpha)
    return jnp.stack([d, jnp.zeros_like(d)])


def _init_ev(n, params):
    return QState(jnp.zeros((n,), dtype=jnp.result_type(float)))


def _init_ewa(n, params):
    zeros = jnp.zeros((n,), dtype=jnp.result_type(float))
    return EWAState(zeros, zeros)


def _fictitious(name, *, rp: bool, with_alpha: bool, beta_max: float, description: str) -> Model:
    params = {"eta_pos": unit(), "eta_neg": unit()} if rp else {"eta": unit()}
    if with_alpha:
        params["alpha"] = _ALPHA
    params["beta"] = bounded(0.0, beta_max)

    def rates(p):
        return (p.eta_pos, p.eta_neg) if rp else (p.eta, p.eta)

    def policy(s, p, t):
        return indecision_logits(s.q, p.beta, p.alpha if with_alpha else 0.0)

    def update(s, p, t):
        return QState(fictitious_update(s.q, t.choice, t.outcome, *rates(p)))

    def latents(s, p, t, n):
        c = t.choice
        return {
            "chosen_value": s.q[c],
            "prediction_error": t.outcome - s.q[c],
            "prediction_error_unchosen": -t.outcome - s.q[1 - c],
        }

    return Model(
        name=name,
        params=params,
        init_state=_init_ev,
        policy=policy,
        update=update,
        latents=latents,
        n_options=2,
        description=description,
        citation="Gläscher et al. (2009); hBayesDM " + name,
        options={"beta_max": beta_max},
    )


# ---------------------------------------------------------------------------------------------
# The library models


@register
def prl_fictitious(*, beta_max: float = 10.0) -> Model:
    r"""HBayesDM's ``prl_fictitious``: fictitious update with an indecision point.

    .. math::

        \delta_t = r_t - V_t(c_t), \quad \delta^{nc}_t = -r_t - V_t(\bar c_t), \quad
        V(c_t) \mathrel{+}= \eta\,\delta_t, \quad V(\bar c_t) \mathrel{+}= \eta\,\delta^{nc}_t

        P(c_t = 1) = \frac{1}{1 + \exp(\beta\,(\alpha - (V_t(1) - V_t(2))))}

    Values start at 0 (and again at each block start, which is hBayesDM's
    ``prl_fictitious_multipleB``). The unchosen option learns from the opposite of the outcome
    (the task's outcomes are assumed anticorrelated). Option 1 is the first option as coded in
    the data (``choice`` 1 in hBayesDM's coding); the indecision point is a bias towards option
    2 when positive.

    Parameters
    ----------
    beta_max : float, default 10
        Upper bound of the inverse temperature.

    Notes
    -----
    Parameters (hBayesDM names, transforms and group priors):

    - ``eta`` learning rate in [0, 1] (``Phi_approx``; ``sigma ~ half-N(0, 0.2)``);
    - ``alpha`` indecision point, unbounded (identity; ``sigma ~ half-Cauchy(0, 1)``);
    - ``beta`` inverse temperature in [0, beta_max] (``Phi_approx * 10``; ``sigma ~ half-N(0, 0.2)``).

    ``mu ~ N(0, 1)`` for all. Columns: ``subjID`` (participant), ``choice`` (1 or 2),
    ``outcome`` (1 reward / -1 loss in hBayesDM's example, any real number allowed); optional
    ``trial`` and ``block``.

    References
    ----------
    Gläscher, J., Hampton, A. N., & O'Doherty, J. P. (2009). Determining a role for ventromedial
    prefrontal cortex in encoding action-based value signals during reward-related decision
    making. *Cerebral Cortex*, 19(2), 483-495.
    """
    return _fictitious(
        "prl_fictitious",
        rp=False,
        with_alpha=True,
        beta_max=beta_max,
        description="PRL fictitious update (eta) with indecision point (alpha)",
    )


@register
def prl_fictitious_woa(*, beta_max: float = 10.0) -> Model:
    r"""HBayesDM's ``prl_fictitious_woa``: fictitious update without the indecision point.

    .. math::

        V(c_t) \mathrel{+}= \eta\,(r_t - V_t(c_t)), \quad
        V(\bar c_t) \mathrel{+}= \eta\,(-r_t - V_t(\bar c_t)), \quad
        P(c_t = 1) = \frac{1}{1 + \exp(\beta\,(V_t(2) - V_t(1)))}

    As :func:`prl_fictitious` with ``alpha = 0``.

    Parameters
    ----------
    beta_max : float, default 10
        Upper bound of the inverse temperature.

    Notes
    -----
    Parameters: ``eta`` learning rate in [0, 1]; ``beta`` inverse temperature in [0, beta_max]
    (both ``Phi_approx``, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``). Columns: ``subjID``,
    ``choice`` (1 or 2), ``outcome``; optional ``trial``, ``block``.

    References
    ----------
    Gläscher, J., Hampton, A. N., & O'Doherty, J. P. (2009). *Cerebral Cortex*, 19(2), 483-495.
    """
    return _fictitious(
        "prl_fictitious_woa",
        rp=False,
        with_alpha=False,
        beta_max=beta_max,
        description="PRL fictitious update (eta), no indecision point",
    )


@register
def prl_fictitious_rp(*, beta_max: float = 10.0) -> Model:
    r"""HBayesDM's ``prl_fictitious_rp``: fictitious update, rates by sign of the prediction error.

    .. math::

        \delta_t = r_t - V_t(c_t), \quad \delta^{nc}_t = -r_t - V_t(\bar c_t), \quad
        \eta = \eta^{+}\ \text{if}\ \delta_t \ge 0\ \text{else}\ \eta^{-}

        V(c_t) \mathrel{+}= \eta\,\delta_t, \quad V(\bar c_t) \mathrel{+}= \eta\,\delta^{nc}_t,
        \quad P(c_t = 1) = \frac{1}{1 + \exp(\beta\,(\alpha - (V_t(1) - V_t(2))))}

    As in hBayesDM's Stan code, the rate is chosen by the sign of the *chosen* option's
    prediction error (a zero error counts as positive) and the same rate updates the unchosen
    option, whatever the sign of its own error.

    Parameters
    ----------
    beta_max : float, default 10
        Upper bound of the inverse temperature.

    Notes
    -----
    Parameters: ``eta_pos`` learning rate for positive errors in [0, 1]; ``eta_neg`` for
    negative errors in [0, 1]; ``alpha`` indecision point, unbounded (``sigma ~
    half-Cauchy(0, 1)``); ``beta`` inverse temperature in [0, beta_max]. Others: ``Phi_approx``,
    ``sigma ~ half-N(0, 0.2)``; all ``mu ~ N(0, 1)``. Columns: ``subjID``, ``choice`` (1 or 2),
    ``outcome``; optional ``trial``, ``block``.

    References
    ----------
    Gläscher, J., Hampton, A. N., & O'Doherty, J. P. (2009). *Cerebral Cortex*, 19(2), 483-495.
    Ouden, den H. E. M., et al. (2013). Dissociable effects of dopamine and serotonin on
    reversal learning. *Neuron*, 80(4), 1090-1100.
    """
    return _fictitious(
        "prl_fictitious_rp",
        rp=True,
        with_alpha=True,
        beta_max=beta_max,
        description="PRL fictitious update, rates by PE sign (eta_pos, eta_neg), indecision point (alpha)",
    )


@register
def prl_fictitious_rp_woa(*, beta_max: float = 10.0) -> Model:
    r"""HBayesDM's ``prl_fictitious_rp_woa``: :func:`prl_fictitious_rp` without the indecision point.

    .. math::

        \eta = \eta^{+}\ \text{if}\ r_t - V_t(c_t) \ge 0\ \text{else}\ \eta^{-}, \quad
        V(c_t) \mathrel{+}= \eta\,(r_t - V_t(c_t)), \quad
        V(\bar c_t) \mathrel{+}= \eta\,(-r_t - V_t(\bar c_t))

        P(c_t = 1) = \frac{1}{1 + \exp(\beta\,(V_t(2) - V_t(1)))}

    Parameters
    ----------
    beta_max : float, default 10
        Upper bound of the inverse temperature.

    Notes
    -----
    Parameters: ``eta_pos`` [0, 1], ``eta_neg`` [0, 1], ``beta`` [0, beta_max] (all
    ``Phi_approx``, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``). Columns: ``subjID``,
    ``choice`` (1 or 2), ``outcome``; optional ``trial``, ``block``.

    References
    ----------
    Gläscher, J., Hampton, A. N., & O'Doherty, J. P. (2009). *Cerebral Cortex*, 19(2), 483-495.
    Ouden, den H. E. M., et al. (2013). *Neuron*, 80(4), 1090-1100.
    """
    return _fictitious(
        "prl_fictitious_rp_woa",
        rp=True,
        with_alpha=False,
        beta_max=beta_max,
        description="PRL fictitious update, rates by PE sign (eta_pos, eta_neg), no indecision point",
    )


@register
def prl_rp(*, beta_max: float = 10.0) -> Model:
    r"""HBayesDM's ``prl_rp``: reward-punishment delta rule, softmax choice.

    .. math::

        V_{t+1}(c_t) = V_t(c_t) + A\,(r_t - V_t(c_t)), \quad
        A = A_{rew}\ \text{if}\ r_t > 0\ \text{else}\ A_{pun}, \quad
        P(c_t = k) = \mathrm{softmax}_k(\beta\, V_t)

    As in hBayesDM's Stan code, the rate is picked by the sign of the *outcome* (not of the
    prediction error); an outcome of 0 counts as a punishment. The unchosen option is unchanged.
    Values start at 0 and reset at each block start (hBayesDM's ``prl_rp_multipleB``).

    Parameters
    ----------
    beta_max : float, default 10
        Upper bound of the inverse temperature.

    Notes
    -----
    Parameters: ``Apun`` punishment learning rate [0, 1]; ``Arew`` reward learning rate [0, 1];
    ``beta`` inverse temperature [0, beta_max] (all ``Phi_approx``, ``mu ~ N(0, 1)``,
    ``sigma ~ half-N(0, 0.2)``). Columns: ``subjID``, ``choice`` (1 or 2), ``outcome``;
    optional ``trial``, ``block``.

    References
    ----------
    Ouden, den H. E. M., Daw, N. D., Fernandez, G., Elshout, J. A., Rijpkema, M., Hoogman, M.,
    Franke, B., & Cools, R. (2013). Dissociable effects of dopamine and serotonin on reversal
    learning. *Neuron*, 80(4), 1090-1100.
    """

    def update(s, p, t):
        return QState(reward_punishment_update(s.q, t.choice, t.outcome, p.Arew, p.Apun))

    return Model(
        name="prl_rp",
        params={"Apun": unit(), "Arew": unit(), "beta": bounded(0.0, beta_max)},
        init_state=_init_ev,
        policy=lambda s, p, t: policies.softmax(s.q, p.beta),
        update=update,
        n_options=2,
        description="PRL reward-punishment delta rule (Apun, Arew), softmax",
        citation="Ouden et al. (2013); hBayesDM prl_rp",
        options={"beta_max": beta_max},
    )


@register
def prl_ewa(*, beta_max: float = 10.0) -> Model:
    r"""HBayesDM's ``prl_ewa``: experience-weighted attraction, softmax choice.

    .. math::

        n_{t+1}(c_t) = \rho\, n_t(c_t) + 1, \qquad
        V_{t+1}(c_t) = \frac{\phi\, n_t(c_t)\, V_t(c_t) + r_t}{n_{t+1}(c_t)}, \qquad
        P(c_t = k) = \mathrm{softmax}_k(\beta\, V_t)

    Values ``V`` and experience weights ``n`` start at 0 (so an option's first outcome becomes
    its value) and both reset at each block start; the unchosen option is unchanged.

    Parameters
    ----------
    beta_max : float, default 10
        Upper bound of the inverse temperature.

    Notes
    -----
    Parameters: ``phi`` decay of the previous value (1 - learning rate) [0, 1]; ``rho``
    experience decay factor [0, 1]; ``beta`` inverse temperature [0, beta_max] (all
    ``Phi_approx``, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``). Columns: ``subjID``,
    ``choice`` (1 or 2), ``outcome``; optional ``trial``, ``block``.

    References
    ----------
    Ouden, den H. E. M., Daw, N. D., Fernandez, G., Elshout, J. A., Rijpkema, M., Hoogman, M.,
    Franke, B., & Cools, R. (2013). Dissociable effects of dopamine and serotonin on reversal
    learning. *Neuron*, 80(4), 1090-1100.
    """

    def update(s, p, t):
        return ewa_update(s, t.choice, t.outcome, p.phi, p.rho)

    def latents(s, p, t, n):
        return {"chosen_value": s.ev[t.choice], "chosen_experience": s.ew[t.choice]}

    return Model(
        name="prl_ewa",
        params={"phi": unit(), "rho": unit(), "beta": bounded(0.0, beta_max)},
        init_state=_init_ewa,
        policy=lambda s, p, t: policies.softmax(s.ev, p.beta),
        update=update,
        latents=latents,
        n_options=2,
        description="PRL experience-weighted attraction (phi, rho), softmax",
        citation="Ouden et al. (2013); hBayesDM prl_ewa",
        options={"beta_max": beta_max},
    )
