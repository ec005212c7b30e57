r"""Iowa Gambling Task (IGT) family: prospect valence learning and outcome-representation learning.

hBayesDM's ``igt_*`` models. On each trial the participant draws a card from one of four
decks (A-D) and sees what it won (``gain``) and lost (``loss``). As hBayesDM's preprocessing
does, every model reads one net outcome per trial,

.. math::

    x_t = (\mathrm{gain}_t - |\mathrm{loss}_t|) / \mathrm{payscale},

with ``payscale = 100`` by default, so losses count as losses whatever their sign in the data.
The prospect-valence models (:func:`igt_pvl_delta`, :func:`igt_pvl_decay`, :func:`igt_vpp`)
turn it into a subjective utility with :func:`prospect_utility` and choose by a softmax whose
sensitivity is :math:`3^c - 1`; :func:`igt_orl` learns expected values and win frequencies
and adds a perseveration term.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax.numpy as jnp

from .. import learning
from ..model import Model
from ..transforms import Prior, bounded, real, unit
from ._registry import register

#: The IGT has four decks (A, B, C, D = choices 1..4); hBayesDM's Stan code fixes four.
N_DECKS = 4

#: hBayesDM's group prior for the unbounded IGT parameters: ``sigma ~ cauchy(0, 1)`` (half-Cauchy).
_WIDE = Prior(sigma_scale=1.0, sigma_family="halfcauchy")


class DeckValues(NamedTuple):
    """Expected value of each deck."""

    ev: jnp.ndarray  # (option,)


class VPPState(NamedTuple):
    """Expected value and perseverance strength of each deck."""

    ev: jnp.ndarray  # (option,)
    pers: jnp.ndarray  # (option,)


class ORLState(NamedTuple):
    """Expected value, expected win frequency and perseverance of each deck."""

    ev: jnp.ndarray  # (option,)
    ef: jnp.ndarray  # (option,)
    pers: jnp.ndarray  # (option,)


def net_outcome(trial, payscale: float):
    r"""The scaled net outcome :math:`(\mathrm{gain} - |\mathrm{loss}|) / \mathrm{payscale}` of one trial.

    Parameters
    ----------
    trial : Trial NamedTuple of scalars with ``gain`` and ``loss``
    payscale : float

    Returns
    -------
    float scalar
    """
    return (trial.gain - jnp.abs(trial.loss)) / payscale


def prospect_utility(x, alpha, loss_aversion):
    r"""Prospect-theory utility of an outcome: :math:`x^\alpha` for :math:`x \ge 0`, else :math:`-\lambda (-x)^\alpha`.

    :math:`|x|^\alpha` is computed as ``exp(alpha * log|x|)`` away from 0 and as 0 at
    :math:`x = 0` (as Stan's ``pow`` gives for :math:`\alpha > 0`), so the gradient with
    respect to ``alpha`` stays finite on trials with a zero net outcome.

    Parameters
    ----------
    x : float scalar
        Net outcome.
    alpha : float scalar in [0, 2]
        Outcome sensitivity (shape of the utility function).
    loss_aversion : float scalar in [0, 10]
        :math:`\lambda`, the weight of losses relative to gains.

    Returns
    -------
    float scalar
    """
    mag = jnp.abs(x)
    nonzero = mag > 0
    power = jnp.where(nonzero, jnp.exp(alpha * jnp.log(jnp.where(nonzero, mag, 1.0))), 0.0)
    return jnp.where(x >= 0, power, -loss_aversion * power)


def consistency(cons):
    r"""The softmax sensitivity :math:`\theta = 3^c - 1` of the prospect-valence models."""
    return jnp.power(3.0, cons) - 1.0


def _zeros(n):
    return jnp.zeros((n,), dtype=jnp.result_type(float))


def _check_payscale(payscale) -> float:
    value = float(payscale)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"payscale must be a positive number (hBayesDM default 100), got {payscale!r}")
    return value


def _pvl_params():
    return {"A": unit(), "alpha": bounded(0.0, 2.0), "cons": bounded(0.0, 5.0), "lambda": bounded(0.0, 10.0)}


def _pvl_model(name, *, payscale, decay, description, citation):
    """``igt_pvl_delta`` (delta rule) and ``igt_pvl_decay`` (decay-reinforcement rule)."""
    payscale = _check_payscale(payscale)

    def utility(p, t):
        return prospect_utility(net_outcome(t, payscale), p.alpha, p.lambda_)

    def policy(s, p, t):
        return consistency(p.cons) * s.ev

    def update(s, p, t):
        u = utility(p, t)
        if decay:  # every deck decays by A, the chosen one gains the utility
            return DeckValues(learning.add_at(p.A * s.ev, t.choice, u))
        return DeckValues(learning.add_at(s.ev, t.choice, p.A * (u - learning.chosen(s.ev, t.choice))))

    def latents(s, p, t, n):
        u, chosen = utility(p, t), s.ev[t.choice]
        out = {"utility": u, "chosen_value": chosen}
        if not decay:
            out["prediction_error"] = u - chosen
        return out

    return Model(
        name=name,
        params=_pvl_params(),
        init_state=lambda n, p: DeckValues(_zeros(n)),
        policy=policy,
        update=update,
        latents=latents,
        n_options=N_DECKS,
        columns=("gain", "loss"),
        description=description,
        citation=citation,
        options={"payscale": payscale},
    )


@register
def igt_pvl_delta(payscale: float = 100.0) -> Model:
    r"""HBayesDM's ``igt_pvl_delta``: prospect valence learning with the delta rule (Ahn et al. 2008).

    Each deck has an expected value :math:`E_t(k)`, 0 at the start (and at each block start).
    The net outcome :math:`x_t = (\mathrm{gain}_t - |\mathrm{loss}_t|) / \mathrm{payscale}`
    has the prospect utility

    .. math::

        u_t = \begin{cases} x_t^{\alpha} & x_t \ge 0 \\ -\lambda\,(-x_t)^{\alpha} & x_t < 0 \end{cases}

    and the chosen deck's value moves towards it:

    .. math::

        E_{t+1}(c_t) = E_t(c_t) + A\,(u_t - E_t(c_t)), \qquad
        P(c_t = k) = \mathrm{softmax}_k(\theta\,E_t), \quad \theta = 3^{c} - 1.

    Unchosen decks keep their values. Latents (:meth:`bayesrl.Fit.latents`): each deck's
    ``ev`` before the trial, ``utility`` :math:`u_t`, ``chosen_value`` :math:`E_t(c_t)` and
    ``prediction_error`` :math:`u_t - E_t(c_t)`.

    Parameters
    ----------
    payscale : float, default 100
        The net outcome ``gain - |loss|`` is divided by it (hBayesDM's ``payscale``).

    Notes
    -----
    Parameters (hBayesDM names, ``Phi_approx`` links, group priors ``mu ~ N(0, 1)``,
    ``sigma ~ half-N(0, 0.2)``):

    - ``A``: learning rate, [0, 1];
    - ``alpha``: outcome sensitivity (utility shape), [0, 2];
    - ``cons``: response consistency, [0, 5];
    - ``lambda``: loss aversion, [0, 10].

    hBayesDM's fixed initial values (``inits="fixed"``): 0.5, 0.5, 1, 1. ``lambda`` is a
    Python keyword: ``params.lambda_`` inside the model's functions, ``lambda`` everywhere
    else. Columns: ``participant`` (``subjID``), ``choice`` (deck 1-4 = A-D), ``gain``,
    ``loss`` (read as ``-|loss|``); optional ``trial``, ``block``. As in hBayesDM, a zero net
    outcome counts as a gain (utility 0) and trials on which gain and loss cancel out carry
    no information about ``lambda``.

    References
    ----------
    Ahn, W.-Y., Busemeyer, J. R., Wagenmakers, E.-J., & Stout, J. C. (2008). Comparison of
    decision learning models using the generalization criterion method. *Cognitive Science*,
    32(8), 1376-1402.
    """
    return _pvl_model(
        "igt_pvl_delta",
        payscale=payscale,
        decay=False,
        description="IGT prospect valence learning, delta rule (hBayesDM igt_pvl_delta)",
        citation="Ahn et al. (2008); hBayesDM igt_pvl_delta",
    )


@register
def igt_pvl_decay(payscale: float = 100.0) -> Model:
    r"""HBayesDM's ``igt_pvl_decay``: prospect valence learning with the decay-reinforcement rule (Ahn et al. 2014).

    The utility :math:`u_t` of the net outcome is as in :func:`igt_pvl_delta`; every deck's
    value decays by the factor :math:`A` and the chosen deck adds the utility:

    .. math::

        E_{t+1}(k) = A\,E_t(k) + [k = c_t]\,u_t, \qquad
        P(c_t = k) = \mathrm{softmax}_k(\theta\,E_t), \quad \theta = 3^{c} - 1.

    ``A`` is a retention (decay) factor here, not a learning rate: :math:`A = 1` keeps the
    running sum of utilities. Latents (:meth:`bayesrl.Fit.latents`): each deck's ``ev``,
    ``utility`` and ``chosen_value``.

    Parameters
    ----------
    payscale : float, default 100
        The net outcome ``gain - |loss|`` is divided by it (hBayesDM's ``payscale``).

    Notes
    -----
    Parameters (``Phi_approx`` links, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``): ``A``
    decay rate [0, 1], ``alpha`` outcome sensitivity [0, 2], ``cons`` response consistency
    [0, 5], ``lambda`` loss aversion [0, 10]. hBayesDM's fixed initial values: 0.5, 0.5, 1, 1.
    Columns: ``participant``, ``choice`` (1-4), ``gain``, ``loss`` (read as ``-|loss|``).

    References
    ----------
    Ahn, W.-Y., Vasilev, G., Lee, S.-H., Busemeyer, J. R., Kruschke, J. K., Bechara, A., &
    Vassileva, J. (2014). Decision-making in stimulant and opiate addicts in protracted
    abstinence: evidence from computational modeling with pure users. *Frontiers in
    Psychology*, 5, 849.
    """
    return _pvl_model(
        "igt_pvl_decay",
        payscale=payscale,
        decay=True,
        description="IGT prospect valence learning, decay-reinforcement rule (hBayesDM igt_pvl_decay)",
        citation="Ahn et al. (2014); hBayesDM igt_pvl_decay",
    )


@register
def igt_vpp(payscale: float = 100.0) -> Model:
    r"""HBayesDM's ``igt_vpp``: value-plus-perseverance (Worthy et al. 2013).

    The expected values :math:`E` learn the prospect utility :math:`u_t` with the delta rule of
    :func:`igt_pvl_delta`. Alongside, a perseverance strength :math:`P` of every deck decays by
    :math:`K` and the chosen deck gains :math:`\epsilon_P` after a net gain (or zero) and
    :math:`\epsilon_N` after a net loss:

    .. math::

        P_{t+1}(k) = K\,P_t(k) + [k = c_t]\,(\epsilon_P [x_t \ge 0] + \epsilon_N [x_t < 0]),

        E_{t+1}(c_t) = E_t(c_t) + A\,(u_t - E_t(c_t)),

        V_t = w\,E_t + (1 - w)\,P_t, \qquad
        P(c_t = k) = \mathrm{softmax}_k(\theta\,V_t), \quad \theta = 3^{c} - 1.

    Latents (:meth:`bayesrl.Fit.latents`): each deck's ``ev`` and ``pers``, ``utility``,
    ``chosen_value`` :math:`E_t(c_t)` and ``prediction_error`` :math:`u_t - E_t(c_t)`.

    Parameters
    ----------
    payscale : float, default 100
        The net outcome ``gain - |loss|`` is divided by it (hBayesDM's ``payscale``).

    Notes
    -----
    Parameters, as hBayesDM's Stan code (``mu ~ N(0, 1)`` for all):

    - ``A``: learning rate, [0, 1];
    - ``alpha``: outcome sensitivity, [0, 2];
    - ``cons``: response consistency, [0, 5];
    - ``lambda``: loss aversion, [0, 10];
    - ``epP``: perseverance gain after a net gain, real (identity link, ``sigma ~ half-Cauchy(0, 1)``);
    - ``epN``: perseverance gain after a net loss, real (identity link, ``sigma ~ half-Cauchy(0, 1)``);
    - ``K``: perseverance decay, [0, 1];
    - ``w``: weight of the expected value against perseverance, [0, 1].

    The bounded parameters have ``Phi_approx`` links and ``sigma ~ half-N(0, 0.2)``.
    hBayesDM's fixed initial values: 0.5, 0.5, 1, 1, 0, 0, 0.5, 0.5.
    Columns: ``participant``, ``choice`` (1-4), ``gain``, ``loss`` (read as ``-|loss|``).

    References
    ----------
    Worthy, D. A., Pang, B., & Byrne, K. A. (2013). Decomposing the roles of perseveration and
    expected value representation in models of the Iowa gambling task. *Frontiers in
    Psychology*, 4, 640.
    """
    payscale = _check_payscale(payscale)

    def policy(s, p, t):
        return consistency(p.cons) * (p.w * s.ev + (1.0 - p.w) * s.pers)

    def update(s, p, t):
        x = net_outcome(t, payscale)
        u = prospect_utility(x, p.alpha, p.lambda_)
        pers = learning.add_at(p.K * s.pers, t.choice, jnp.where(x >= 0, p.epP, p.epN))
        ev = learning.add_at(s.ev, t.choice, p.A * (u - learning.chosen(s.ev, t.choice)))
        return VPPState(ev, pers)

    def latents(s, p, t, n):
        u = prospect_utility(net_outcome(t, payscale), p.alpha, p.lambda_)
        chosen = s.ev[t.choice]
        return {"utility": u, "chosen_value": chosen, "prediction_error": u - chosen}

    return Model(
        name="igt_vpp",
        params={
            **_pvl_params(),
            "epP": real(_WIDE),
            "epN": real(_WIDE),
            "K": unit(),
            "w": unit(),
        },
        init_state=lambda n, p: VPPState(_zeros(n), _zeros(n)),
        policy=policy,
        update=update,
        latents=latents,
        n_options=N_DECKS,
        columns=("gain", "loss"),
        description="IGT value-plus-perseverance (hBayesDM igt_vpp)",
        citation="Worthy et al. (2013); hBayesDM igt_vpp",
        options={"payscale": payscale},
    )


@register
def igt_orl(payscale: float = 100.0) -> Model:
    r"""HBayesDM's ``igt_orl``: outcome-representation learning (Haines et al. 2018).

    Each deck has an expected value :math:`EV`, an expected win frequency :math:`EF` and a
    perseverance :math:`PS`, all 0 at the start. With :math:`x_t` the net outcome and
    :math:`s_t = \mathrm{sign}(x_t)` (0 for a zero net outcome), the learning rate is
    :math:`A_{rew}` after :math:`x_t \ge 0` and :math:`A_{pun}` after :math:`x_t < 0`:

    .. math::

        EV_{t+1}(c_t) = EV_t(c_t) + A_{\pm}\,(x_t - EV_t(c_t)), \qquad
        EF_{t+1}(c_t) = EF_t(c_t) + A_{\pm}\,(s_t - EF_t(c_t)),

    and the unchosen decks' win frequencies move fictively towards :math:`-s_t / 3` (with the
    *other* rate, :math:`A_{pun}` after a gain and :math:`A_{rew}` after a loss, as in
    hBayesDM's Stan code):

    .. math::

        EF_{t+1}(k) = EF_t(k) + A_{\mp}\,(-s_t / 3 - EF_t(k)) \quad (k \ne c_t).

    The perseverance of the chosen deck is set to 1, then every deck's decays:
    :math:`PS_{t+1} = PS'_t / 3^{K}` (hBayesDM writes :math:`1 + (3^K - 1)`). The choice is

    .. math::

        P(c_t = k) = \mathrm{softmax}_k\big(EV_t(k) + \beta_F\,EF_t(k) + \beta_P\,PS_t(k)\big).

    Latents (:meth:`bayesrl.Fit.latents`): each deck's ``ev``, ``ef`` and ``pers``,
    ``chosen_value`` :math:`EV_t(c_t)`, ``prediction_error_value`` :math:`x_t - EV_t(c_t)` and
    ``prediction_error_frequency`` :math:`s_t - EF_t(c_t)`.

    Parameters
    ----------
    payscale : float, default 100
        The net outcome ``gain - |loss|`` is divided by it (hBayesDM's ``payscale``).

    Notes
    -----
    Parameters, as hBayesDM's Stan code (``mu ~ N(0, 1)`` for all):

    - ``Arew``: reward learning rate, [0, 1] (``Phi_approx``, ``sigma ~ half-N(0, 0.2)``);
    - ``Apun``: punishment learning rate, [0, 1] (``Phi_approx``, ``sigma ~ half-N(0, 0.2)``);
    - ``K``: perseverance decay, [0, 5] (``Phi_approx``, ``sigma ~ half-N(0, 0.2)``);
    - ``betaF``: weight of the win frequency, real (identity, ``sigma ~ half-Cauchy(0, 1)``);
    - ``betaP``: weight of perseverance, real (identity, ``sigma ~ half-Cauchy(0, 1)``).

    hBayesDM's fixed initial values: 0.1, 0.1, 0.1, 0.1, 1. The choice has no inverse
    temperature: the value enters the softmax on the ``payscale`` scale, so ``payscale``
    changes the model, not only the units (keep hBayesDM's 100 to compare with its fits).
    The fictive-update divisor 3 is the number of other decks.
    Columns: ``participant``, ``choice`` (1-4), ``gain``, ``loss`` (read as ``-|loss|``).

    References
    ----------
    Haines, N., Vassileva, J., & Ahn, W.-Y. (2018). The outcome-representation learning model:
    a novel reinforcement learning model of the Iowa Gambling Task. *Cognitive Science*, 42(8),
    2534-2561.
    """
    payscale = _check_payscale(payscale)
    n_other = N_DECKS - 1

    def policy(s, p, t):
        return s.ev + p.betaF * s.ef + p.betaP * s.pers

    def update(s, p, t):
        x = net_outcome(t, payscale)
        sign = jnp.sign(x)
        c = t.choice
        gained = x >= 0
        a_own = jnp.where(gained, p.Arew, p.Apun)
        a_fictive = jnp.where(gained, p.Apun, p.Arew)
        ef = s.ef + a_fictive * (-sign / n_other - s.ef)
        ef_c = learning.chosen(s.ef, c)
        ef = learning.set_at(ef, c, ef_c + a_own * (sign - ef_c))
        ev = learning.add_at(s.ev, c, a_own * (x - learning.chosen(s.ev, c)))
        pers = learning.set_at(s.pers, c, 1.0) / jnp.power(3.0, p.K)
        return ORLState(ev, ef, pers)

    def latents(s, p, t, n):
        x = net_outcome(t, payscale)
        c = t.choice
        return {
            "chosen_value": s.ev[c],
            "prediction_error_value": x - s.ev[c],
            "prediction_error_frequency": jnp.sign(x) - s.ef[c],
        }

    return Model(
        name="igt_orl",
        params={
            "Arew": unit(),
            "Apun": unit(),
            "K": bounded(0.0, 5.0),
            "betaF": real(_WIDE),
            "betaP": real(_WIDE),
        },
        init_state=lambda n, p: ORLState(_zeros(n), _zeros(n), _zeros(n)),
        policy=policy,
        update=update,
        latents=latents,
        n_options=N_DECKS,
        columns=("gain", "loss"),
        description="IGT outcome-representation learning (hBayesDM igt_orl)",
        citation="Haines et al. (2018); hBayesDM igt_orl",
        options={"payscale": payscale},
    )
