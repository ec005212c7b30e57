"""Rescorla-Wagner family: delta-rule learning with a softmax choice rule."""

from __future__ import annotations

import jax.numpy as jnp

from .. import learning, policies
from ..model import Model
from ..transforms import bounded, real, unit
from ._common import QState, StickyQState, _init_q
from ._registry import register


@register
def rescorla_wagner(n_options: int = 2, *, beta_max: float = 5.0, initial_value: float = 0.0) -> Model:
    r"""Rescorla-Wagner (delta-rule) learning with a softmax choice rule.

    .. math::

        P(c_t = k) = \mathrm{softmax}_k(\beta\, Q_t), \qquad
        Q_{t+1}(c_t) = Q_t(c_t) + \alpha\,(r_t - Q_t(c_t))

    Unchosen values are unchanged. Defaults follow hBayesDM's ``bandit2arm_delta`` (its
    ``A`` is ``alpha`` and ``tau`` is ``beta``): initial values 0, ``alpha`` in [0, 1] and
    ``beta`` in [0, 5] through a scaled ``Phi_approx``, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``.

    Parameters
    ----------
    n_options : int, default 2
        Number of options.
    beta_max : float, default 5
        Upper bound of the inverse temperature.
    initial_value : float, default 0
        Initial value of every option (at the start and at each block start).

    Notes
    -----
    Parameters: ``alpha`` learning rate [0, 1]; ``beta`` inverse temperature [0, beta_max].
    Columns: ``participant``, ``choice``, ``outcome`` (alias ``reward``); optional ``trial``, ``block``.

    References
    ----------
    Rescorla, R. A., & Wagner, A. R. (1972). A theory of Pavlovian conditioning. In *Classical
    Conditioning II*. Erev, I., Ert, E., Roth, A. E., et al. (2010). A choice prediction
    competition. *J. Behav. Decis. Making*, 23, 15-47 (hBayesDM's bandit2arm reference).
    """

    def update(state, p, trial):
        return QState(learning.delta_rule(state.q, trial.choice, trial.outcome, p.alpha))

    def linear_update(p, trial):  # q -> (1 - alpha) q + alpha r on the chosen option
        chosen = jnp.arange(n_options) == trial.choice
        return QState(jnp.where(chosen, 1.0 - p.alpha, 1.0)), QState(jnp.where(chosen, p.alpha * trial.outcome, 0.0))

    return Model(
        name="rescorla_wagner",
        linear_update=linear_update,
        params={"alpha": unit(), "beta": bounded(0.0, beta_max)},
        init_state=_init_q(initial_value),
        policy=lambda s, p, t: policies.softmax(s.q, p.beta),
        update=update,
        n_options=n_options,
        description="Rescorla-Wagner delta rule, softmax choice",
        citation="Rescorla & Wagner (1972); hBayesDM bandit2arm_delta",
        options={"n_options": n_options, "beta_max": beta_max, "initial_value": initial_value},
    )


@register
def rescorla_wagner_asymmetric(n_options: int = 2, *, beta_max: float = 5.0, initial_value: float = 0.0) -> Model:
    r"""Rescorla-Wagner learning with separate rates for positive and negative prediction errors.

    .. math::

        \delta_t = r_t - Q_t(c_t), \qquad
        Q_{t+1}(c_t) = Q_t(c_t) + (\alpha^{+}[\delta_t \ge 0] + \alpha^{-}[\delta_t < 0])\,\delta_t,
        \qquad P(c_t = k) = \mathrm{softmax}_k(\beta Q_t)

    Parameters
    ----------
    n_options : int, default 2
    beta_max : float, default 5
    initial_value : float, default 0

    Notes
    -----
    Parameters: ``alpha_pos`` [0, 1], ``alpha_neg`` [0, 1], ``beta`` [0, beta_max].
    Columns: ``participant``, ``choice``, ``outcome``.

    References
    ----------
    Frank, M. J., Moustafa, A. A., Haughey, H. M., Curran, T., & Hutchison, K. E. (2007).
    Genetic triple dissociation reveals multiple roles for dopamine in reinforcement learning.
    *PNAS*, 104, 16311-16316. Lefebvre, G., et al. (2017). *Nature Human Behaviour*, 1, 0067.
    """

    def update(state, p, trial):
        return QState(learning.asymmetric_delta_rule(state.q, trial.choice, trial.outcome, p.alpha_pos, p.alpha_neg))

    return Model(
        name="rescorla_wagner_asymmetric",
        params={"alpha_pos": unit(), "alpha_neg": unit(), "beta": bounded(0.0, beta_max)},
        init_state=_init_q(initial_value),
        policy=lambda s, p, t: policies.softmax(s.q, p.beta),
        update=update,
        n_options=n_options,
        description="Rescorla-Wagner with separate learning rates for positive/negative prediction errors",
        citation="Frank et al. (2007); Lefebvre et al. (2017)",
        options={"n_options": n_options, "beta_max": beta_max, "initial_value": initial_value},
    )


@register
def rescorla_wagner_perseveration(n_options: int = 2, *, beta_max: float = 5.0, initial_value: float = 0.0) -> Model:
    r"""Rescorla-Wagner learning with a choice-perseveration (stickiness) bonus.

    .. math::

        P(c_t = k) = \mathrm{softmax}_k(\beta Q_t(k) + \kappa\,[k = c_{t-1}]), \qquad
        Q_{t+1}(c_t) = Q_t(c_t) + \alpha\,(r_t - Q_t(c_t))

    ``kappa > 0`` favours repeating the previous choice, ``kappa < 0`` switching. The previous
    choice is forgotten at a block start; a masked trial (missing choice) leaves it unchanged.

    Parameters
    ----------
    n_options : int, default 2
    beta_max : float, default 5
    initial_value : float, default 0

    Notes
    -----
    Parameters: ``alpha`` [0, 1], ``beta`` [0, beta_max], ``kappa`` real (group prior
    ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 1)``). Columns: ``participant``, ``choice``, ``outcome``.

    References
    ----------
    Lau, B., & Glimcher, P. W. (2005). Dynamic response-by-response models of matching behavior
    in rhesus monkeys. *J. Exp. Anal. Behav.*, 84, 555-579.
    """

    def init(n, p):
        return StickyQState(_init_q(initial_value)(n, p).q, jnp.asarray(-1, dtype=jnp.int32))

    def policy(s, p, t):
        return policies.softmax(s.q, p.beta) + policies.perseveration(s.last_choice, p.kappa, n_options)

    def update(s, p, t):
        q = learning.delta_rule(s.q, t.choice, t.outcome, p.alpha)
        return StickyQState(q, jnp.asarray(t.choice, dtype=jnp.int32))

    return Model(
        name="rescorla_wagner_perseveration",
        params={"alpha": unit(), "beta": bounded(0.0, beta_max), "kappa": real()},
        init_state=init,
        policy=policy,
        update=update,
        n_options=n_options,
        description="Rescorla-Wagner with a bonus for repeating the previous choice",
        citation="Lau & Glimcher (2005)",
        options={"n_options": n_options, "beta_max": beta_max, "initial_value": initial_value},
    )


@register
def bandit2arm_delta(n_options: int = 2, *, beta_max: float = 5.0, initial_value: float = 0.0) -> Model:
    """HBayesDM's ``bandit2arm_delta``: :func:`rescorla_wagner` with hBayesDM's parameter names.

    ``A`` is the learning rate ``alpha`` in [0, 1] and ``tau`` the inverse temperature
    ``beta`` in [0, 5]; everything else (equations, priors, columns) as :func:`rescorla_wagner`.

    References
    ----------
    Erev, I., Ert, E., Roth, A. E., et al. (2010). A choice prediction competition: choices from
    experience and from description. *J. Behav. Decis. Making*, 23, 15-47.
    """
    options = {"n_options": n_options, "beta_max": beta_max, "initial_value": initial_value}
    return rescorla_wagner(**options).renamed(
        {"alpha": "A", "beta": "tau"},
        name="bandit2arm_delta",
        options=options,
        description="hBayesDM bandit2arm_delta: Rescorla-Wagner (A, tau)",
        citation="Erev et al. (2010); hBayesDM",
    )
