r"""HBayesDM's ``banditNarm_*`` family: the N-armed bandit models, reading ``gain`` and ``loss`` columns.

hBayesDM's R package has, besides ``bandit4arm_*``, the same models for any number of arms
(argument ``Narm``), all reading the columns ``subjID``, ``choice``, ``gain``, ``loss``:

- ``banditNarm_4par``, ``_lapse``, ``_lapse_decay``, ``_singleA_lapse``, ``_2par_lapse``: the
  ``bandit4arm_*`` models of the same suffix (:mod:`bayesrl.models._bandit4arm`) under these names;
- ``banditNarm_delta``: Rescorla-Wagner (``A``, ``tau``) on the net payoff ``gain - |loss|``;
- ``banditNarm_kalman_filter``: the Kalman filter of ``bandit4arm2_kalman_filter`` on the net
  payoff ``gain - |loss|``.

``n_options`` is hBayesDM's ``Narm`` (default 4 here; hBayesDM counts the distinct choices when
``Narm`` is not given: pass ``n_options`` when your task has another number of arms).
"""

from __future__ import annotations

import dataclasses

from .. import learning, policies
from ..model import Model
from ..transforms import bounded, unit
from ._bandit4arm import (
    _loss,
    bandit4arm_2par_lapse,
    bandit4arm_4par,
    bandit4arm_lapse,
    bandit4arm_lapse_decay,
    bandit4arm_singleA_lapse,
    kalman_filter_model,
)
from ._common import QState, _init_q
from ._registry import register


def _net_payoff(trial):
    # hBayesDM's banditNarm preprocessing: rew = gain, los = -|loss|; the payoff is rew + los.
    return trial.gain + _loss(trial)


def _alias(base, name: str):
    """Register ``base`` (a bandit4arm factory) again as hBayesDM's N-armed ``name``."""

    def factory(n_options: int = 4) -> Model:
        model = base(n_options)
        return dataclasses.replace(model, name=name, citation=f"{model.citation.split(';')[0]}; hBayesDM {name}")

    factory.__name__ = factory.__qualname__ = name
    summary, _, body = base.__doc__.partition("\n")
    factory.__doc__ = (
        f"HBayesDM's ``{name}``: :func:`{base.__name__}` for ``n_options`` arms (hBayesDM's ``Narm``).\n\n"
        f"    {base.__name__}: {summary.partition(': ')[2]}\n{body}"
    )
    return register(factory)


banditNarm_4par = _alias(bandit4arm_4par, "banditNarm_4par")
banditNarm_lapse = _alias(bandit4arm_lapse, "banditNarm_lapse")
banditNarm_lapse_decay = _alias(bandit4arm_lapse_decay, "banditNarm_lapse_decay")
banditNarm_singleA_lapse = _alias(bandit4arm_singleA_lapse, "banditNarm_singleA_lapse")
banditNarm_2par_lapse = _alias(bandit4arm_2par_lapse, "banditNarm_2par_lapse")


@register
def banditNarm_delta(n_options: int = 4) -> Model:  # noqa: N802 - hBayesDM's name
    r"""HBayesDM's ``banditNarm_delta``: Rescorla-Wagner on the net payoff of an N-armed bandit.

    .. math::

        P(c_t = k) = \mathrm{softmax}_k(\tau\, Q_t), \qquad
        Q_{t+1}(c_t) = Q_t(c_t) + A\,(g_t - |l_t| - Q_t(c_t))

    with :math:`g_t` the ``gain`` and :math:`l_t` the ``loss`` of the trial (hBayesDM reads
    losses as :math:`-|l_t|` whatever their sign). Initial values 0; unchosen values unchanged.

    Parameters
    ----------
    n_options : int, default 4
        Number of arms (hBayesDM's ``Narm``).

    Notes
    -----
    Parameters (``Phi_approx`` links, group priors ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``
    as in hBayesDM): ``A`` learning rate [0, 1]; ``tau`` inverse temperature [0, 5].
    hBayesDM's initial values: 0.5, 1.
    Columns: ``participant`` (``subjID``), ``choice`` (1..K), ``gain``, ``loss``; optional
    ``trial``, ``block``.

    References
    ----------
    Erev, I., Ert, E., Roth, A. E., et al. (2010). A choice prediction competition: choices from
    experience and from description. *J. Behav. Decis. Making*, 23, 15-47. Hertwig, R., Barron,
    G., Weber, E. U., & Erev, I. (2004). Decisions from experience and the effect of rare events
    in risky choice. *Psychological Science*, 15(8), 534-539.
    """

    def update(state, p, trial):
        return QState(learning.delta_rule(state.q, trial.choice, _net_payoff(trial), p.A))

    def latents(state, p, trial, next_state):
        chosen = state.q[trial.choice]
        return {"chosen_value": chosen, "prediction_error": _net_payoff(trial) - chosen}

    return Model(
        name="banditNarm_delta",
        params={"A": unit(), "tau": bounded(0.0, 5.0)},
        init_state=_init_q(0.0),
        policy=lambda s, p, t: policies.softmax(s.q, p.tau),
        update=update,
        latents=latents,
        n_options=n_options,
        columns=("gain", "loss"),
        description="Rescorla-Wagner (A, tau) on the net payoff gain - |loss|",
        citation="Erev et al. (2010); hBayesDM banditNarm_delta",
        options={"n_options": n_options},
    )


@register
def banditNarm_kalman_filter(n_options: int = 4, *, sigma_o: float = 4.0) -> Model:  # noqa: N802
    r"""HBayesDM's ``banditNarm_kalman_filter``: the Kalman-filter bandit on the net payoff ``gain - |loss|``.

    The equations, parameters (``lambda``, ``theta``, ``beta``, ``mu0``, ``sigma0``,
    ``sigmaD``), bounds and priors are those of :func:`bandit4arm2_kalman_filter`; the observed
    payoff is :math:`o_t = g_t - |l_t|` from the ``gain`` and ``loss`` columns instead of an
    ``outcome`` column.

    Parameters
    ----------
    n_options : int, default 4
        Number of arms (hBayesDM's ``Narm``).
    sigma_o : float, default 4
        Standard deviation of the observation noise (fixed, as in hBayesDM).

    Notes
    -----
    Columns: ``participant`` (``subjID``), ``choice`` (1..K), ``gain``, ``loss``; optional
    ``trial``, ``block``. To simulate it, use :func:`bayesrl.tasks.drifting_bandit` with
    ``fields="gain_loss"``.

    References
    ----------
    Daw, N. D., O'Doherty, J. P., Dayan, P., Seymour, B., & Dolan, R. J. (2006). Cortical
    substrates for exploratory decisions in humans. *Nature*, 441(7095), 876-879.
    """
    return kalman_filter_model(
        "banditNarm_kalman_filter",
        n_options,
        sigma_o=sigma_o,
        payoff=_net_payoff,
        columns=("gain", "loss"),
        citation="Daw et al. (2006); hBayesDM banditNarm_kalman_filter",
    )
