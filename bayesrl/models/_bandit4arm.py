r"""Four-armed (N-armed) bandit family: separate reward and punishment values, and the Kalman filter.

hBayesDM's ``bandit4arm_*`` models (Seymour et al. 2012; Aylward et al. 2019) learn, for each
arm, a reward value from the ``gain`` stream and a punishment value from the ``loss`` stream and
choose by a softmax over their sum, optionally mixed with a lapse. Every one of them is one
learning rule, :func:`gain_loss_update`, with different arguments, and one choice rule,
:func:`lapse_logits`. ``bandit4arm2_kalman_filter`` (Daw et al. 2006) tracks each arm's mean
payoff and its uncertainty with a Kalman filter on drifting payoffs.

All models take any number of arms (``n_options``, default 4 as in hBayesDM; hBayesDM's
``banditNarm_*`` models are the same models for N arms).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .. import learning
from ..model import Model
from ..transforms import Prior, bounded, unit
from ._registry import register


class GainLossState(NamedTuple):
    """Reward and punishment values of each arm."""

    q_rew: jnp.ndarray  # (option,)
    q_pun: jnp.ndarray  # (option,)


class KalmanState(NamedTuple):
    """Posterior mean and variance of each arm's payoff."""

    mean: jnp.ndarray  # (option,)
    var: jnp.ndarray  # (option,)


def gain_loss_update(values, choice, target, alpha, forget):
    r"""Delta rule for the chosen arm; unchosen arms decay towards 0.

    .. math::

        V'(k) = (1 - f)\,V(k) \quad (k \ne c), \qquad V'(c) = V(c) + \alpha\,(x - V(c))

    With ``forget = alpha`` this is hBayesDM's "fictive updating" of unchosen arms towards
    an outcome of 0 (``V += alpha * (0 - V)``); with ``forget = d`` it is the decay of
    ``bandit4arm_lapse_decay``.

    Parameters
    ----------
    values : array, shape (option,)
    choice : int scalar
    target : float scalar
        The (scaled) outcome of the chosen arm, e.g. ``R * gain``.
    alpha : float scalar in [0, 1]
        Learning rate of the chosen arm.
    forget : float scalar in [0, 1]
        Rate at which unchosen arms move towards 0.

    Returns
    -------
    jax.Array, shape (option,)
    """
    value = learning.chosen(values, choice)
    return learning.set_at((1.0 - forget) * values, choice, value + alpha * (target - value))


def lapse_logits(logits, xi):
    r"""Log-probabilities of a softmax mixed with a uniform lapse.

    .. math::

        P(k) = (1 - \xi)\,\mathrm{softmax}_k(\ell) + \xi / K

    computed as ``logaddexp(log(1 - xi) + log_softmax(logits), log(xi / K))``, so it stays
    finite when the softmax underflows. ``xi`` is clipped to ``[tiny, 1 - eps]`` of its dtype
    (which changes no value by more than rounding) to keep gradients finite at the bounds.

    Parameters
    ----------
    logits : array, shape (option,)
    xi : float scalar in [0, 1]
        Lapse rate: the probability of choosing uniformly at random.

    Returns
    -------
    jax.Array, shape (option,)
        Normalised log-probabilities (valid logits).
    """
    info = jnp.finfo(jnp.result_type(logits, xi, float))
    xi = jnp.clip(xi, info.tiny, 1.0 - info.eps)
    n = logits.shape[-1]
    return jnp.logaddexp(jnp.log1p(-xi) + jax.nn.log_softmax(logits), jnp.log(xi) - jnp.log(n))


def _loss(trial):
    # hBayesDM's preprocessing reads ``los = -abs(loss)``: losses count as punishments whatever their sign.
    return -jnp.abs(trial.loss)


def _gain_loss_model(
    name, n_options, params, *, alpha_rew, alpha_pun, forget_rew, forget_pun, rew_scale, pun_scale, lapse, **meta
):
    """Build a gain/loss bandit model from functions of ``params`` (one place for all five)."""

    def init(n, p):
        zeros = jnp.zeros((n,), dtype=jnp.result_type(float))
        return GainLossState(zeros, zeros)

    def policy(s, p, t):
        q_sum = s.q_rew + s.q_pun
        return lapse_logits(q_sum, p.xi) if lapse else q_sum

    def update(s, p, t):
        q_rew = gain_loss_update(s.q_rew, t.choice, rew_scale(p) * t.gain, alpha_rew(p), forget_rew(p))
        q_pun = gain_loss_update(s.q_pun, t.choice, pun_scale(p) * _loss(t), alpha_pun(p), forget_pun(p))
        return GainLossState(q_rew, q_pun)

    def latents(s, p, t, n):
        c = t.choice
        return {
            "chosen_value": s.q_rew[c] + s.q_pun[c],
            "prediction_error_reward": rew_scale(p) * t.gain - s.q_rew[c],
            "prediction_error_punishment": pun_scale(p) * _loss(t) - s.q_pun[c],
        }

    return Model(
        name=name,
        params=params,
        init_state=init,
        policy=policy,
        update=update,
        latents=latents,
        n_options=n_options,
        columns=("gain", "loss"),
        options={"n_options": n_options},
        **meta,
    )


def _one(p):
    return 1.0


@register
def bandit4arm_4par(n_options: int = 4) -> Model:
    r"""HBayesDM's ``bandit4arm_4par``: separate reward and punishment learning (Seymour et al. 2012).

    Each arm has a reward value :math:`Q^r` and a punishment value :math:`Q^p`, both 0 at
    the start (and at each block start). After choosing :math:`c_t` and seeing gain
    :math:`g_t \ge 0` and loss :math:`l_t \le 0`:

    .. math::

        Q^r_{t+1}(c_t) = Q^r_t(c_t) + A_{rew}\,(R\,g_t - Q^r_t(c_t)), \qquad
        Q^p_{t+1}(c_t) = Q^p_t(c_t) + A_{pun}\,(P\,l_t - Q^p_t(c_t)),

        Q^r_{t+1}(k) = (1 - A_{rew})\,Q^r_t(k), \qquad Q^p_{t+1}(k) = (1 - A_{pun})\,Q^p_t(k)
        \quad (k \ne c_t)

    (unchosen arms are updated "fictively" towards an outcome of 0), and the choice is

    .. math::

        P(c_t = k) = \mathrm{softmax}_k(Q^r_t + Q^p_t).

    There is no separate inverse temperature: ``R`` and ``P`` scale the outcomes and so set
    the choice's sensitivity to rewards and punishments. Latents (:meth:`bayesrl.Fit.latents`,
    every gain/loss model): ``q_rew``/``q_pun`` of each arm, ``chosen_value``
    :math:`Q^r_t(c_t) + Q^p_t(c_t)`, ``prediction_error_reward`` :math:`R\,g_t - Q^r_t(c_t)` and
    ``prediction_error_punishment`` :math:`P\,l_t - Q^p_t(c_t)`. As hBayesDM's preprocessing does,
    the loss column is read as :math:`l_t = -|\mathrm{loss}|`, so losses coded as positive
    magnitudes are punishments too.

    Parameters
    ----------
    n_options : int, default 4
        Number of arms (hBayesDM's ``banditNarm_4par`` for N arms).

    Notes
    -----
    Parameters (hBayesDM names, bounds and priors: ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``,
    ``Phi_approx`` links):

    - ``Arew``: reward learning rate, [0, 1];
    - ``Apun``: punishment learning rate, [0, 1];
    - ``R``: reward sensitivity, [0, 30];
    - ``P``: punishment sensitivity, [0, 30].

    hBayesDM starts its sampler at ``Arew = Apun = 0.1``, ``R = P = 1``.
    Columns: ``participant`` (``subjID``), ``choice`` (1..K), ``gain`` (>= 0), ``loss``
    (<= 0); optional ``trial``, ``block``.

    References
    ----------
    Seymour, B., Daw, N. D., Roiser, J. P., Dayan, P., & Dolan, R. (2012). Serotonin selectively
    modulates reward value in human decision-making. *J. Neurosci.*, 32(17), 5833-5842.
    """
    return _gain_loss_model(
        "bandit4arm_4par",
        n_options,
        {"Arew": unit(), "Apun": unit(), "R": bounded(0.0, 30.0), "P": bounded(0.0, 30.0)},
        alpha_rew=lambda p: p.Arew,
        alpha_pun=lambda p: p.Apun,
        forget_rew=lambda p: p.Arew,
        forget_pun=lambda p: p.Apun,
        rew_scale=lambda p: p.R,
        pun_scale=lambda p: p.P,
        lapse=False,
        description="reward/punishment learning rates and sensitivities, fictive updating of unchosen arms",
        citation="Seymour et al. (2012); hBayesDM bandit4arm_4par",
    )


@register
def bandit4arm_lapse(n_options: int = 4) -> Model:
    r"""HBayesDM's ``bandit4arm_lapse``: :func:`bandit4arm_4par` plus a lapse rate ``xi``.

    Learning as in :func:`bandit4arm_4par` (fictive updating of unchosen arms towards 0);
    the choice mixes the softmax with a uniform choice:

    .. math::

        P(c_t = k) = (1 - \xi)\,\mathrm{softmax}_k(Q^r_t + Q^p_t) + \xi / K

    with :math:`K` arms (hBayesDM's Stan code writes ``xi / 4`` for its four arms).

    Parameters
    ----------
    n_options : int, default 4
        Number of arms.

    Notes
    -----
    Parameters (``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``): ``Arew`` [0, 1], ``Apun``
    [0, 1], ``R`` reward sensitivity [0, 30], ``P`` punishment sensitivity [0, 30], ``xi``
    lapse rate [0, 1]. hBayesDM's initial values: 0.1, 0.1, 1, 1, 0.1.
    Columns: ``participant``, ``choice``, ``gain``, ``loss`` (read as ``-|loss|``).

    References
    ----------
    Seymour, B., Daw, N. D., Roiser, J. P., Dayan, P., & Dolan, R. (2012). Serotonin selectively
    modulates reward value in human decision-making. *J. Neurosci.*, 32(17), 5833-5842.
    """
    return _gain_loss_model(
        "bandit4arm_lapse",
        n_options,
        {"Arew": unit(), "Apun": unit(), "R": bounded(0.0, 30.0), "P": bounded(0.0, 30.0), "xi": unit()},
        alpha_rew=lambda p: p.Arew,
        alpha_pun=lambda p: p.Apun,
        forget_rew=lambda p: p.Arew,
        forget_pun=lambda p: p.Apun,
        rew_scale=lambda p: p.R,
        pun_scale=lambda p: p.P,
        lapse=True,
        description="bandit4arm_4par with a lapse rate (softmax mixed with uniform choice)",
        citation="Seymour et al. (2012); hBayesDM bandit4arm_lapse",
    )


@register
def bandit4arm_lapse_decay(n_options: int = 4) -> Model:
    r"""HBayesDM's ``bandit4arm_lapse_decay``: lapse, and unchosen values decay at rate ``d``.

    As :func:`bandit4arm_lapse`, except that the values of *every* arm first decay by
    :math:`(1 - d)` and then the chosen arm's values are replaced by their delta-rule update
    (from the values before the decay, as hBayesDM's Stan code does):

    .. math::

        Q^r_{t+1}(k) = (1 - d)\,Q^r_t(k), \quad Q^p_{t+1}(k) = (1 - d)\,Q^p_t(k) \quad (k \ne c_t),

        Q^r_{t+1}(c_t) = Q^r_t(c_t) + A_{rew}(R\,g_t - Q^r_t(c_t)), \quad
        Q^p_{t+1}(c_t) = Q^p_t(c_t) + A_{pun}(P\,l_t - Q^p_t(c_t)),

        P(c_t = k) = (1 - \xi)\,\mathrm{softmax}_k(Q^r_t + Q^p_t) + \xi / K.

    Parameters
    ----------
    n_options : int, default 4
        Number of arms.

    Notes
    -----
    Parameters (``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``): ``Arew`` [0, 1], ``Apun``
    [0, 1], ``R`` [0, 30], ``P`` [0, 30], ``xi`` lapse rate [0, 1], ``d`` decay rate of
    unchosen values [0, 1]. hBayesDM's initial values: 0.1, 0.1, 1, 1, 0.1, 0.1.
    Columns: ``participant``, ``choice``, ``gain``, ``loss`` (read as ``-|loss|``).

    References
    ----------
    Aylward, J., Valton, V., Ahn, W.-Y., Bond, R. L., Dayan, P., Roiser, J. P., & Robinson, O. J.
    (2019). Altered learning under uncertainty in unmedicated mood and anxiety disorders.
    *Nature Human Behaviour*, 3, 1116-1123. Niv, Y., et al. (2015). Reinforcement learning in
    multidimensional environments relies on attention mechanisms. *J. Neurosci.*, 35, 8145-8157.
    """
    return _gain_loss_model(
        "bandit4arm_lapse_decay",
        n_options,
        {
            "Arew": unit(),
            "Apun": unit(),
            "R": bounded(0.0, 30.0),
            "P": bounded(0.0, 30.0),
            "xi": unit(),
            "d": unit(),
        },
        alpha_rew=lambda p: p.Arew,
        alpha_pun=lambda p: p.Apun,
        forget_rew=lambda p: p.d,
        forget_pun=lambda p: p.d,
        rew_scale=lambda p: p.R,
        pun_scale=lambda p: p.P,
        lapse=True,
        description="bandit4arm_lapse with decay of unchosen values instead of fictive updating",
        citation="Aylward et al. (2019); hBayesDM bandit4arm_lapse_decay",
    )


@register
def bandit4arm_singleA_lapse(n_options: int = 4) -> Model:  # noqa: N802 - hBayesDM's name
    r"""HBayesDM's ``bandit4arm_singleA_lapse``: one learning rate ``A`` for rewards and punishments.

    As :func:`bandit4arm_lapse` with :math:`A_{rew} = A_{pun} = A`:

    .. math::

        Q^r_{t+1}(c_t) = Q^r_t(c_t) + A\,(R\,g_t - Q^r_t(c_t)), \quad
        Q^p_{t+1}(c_t) = Q^p_t(c_t) + A\,(P\,l_t - Q^p_t(c_t)),

        Q_{t+1}(k) = (1 - A)\,Q_t(k) \ (k \ne c_t), \qquad
        P(c_t = k) = (1 - \xi)\,\mathrm{softmax}_k(Q^r_t + Q^p_t) + \xi / K.

    Parameters
    ----------
    n_options : int, default 4
        Number of arms.

    Notes
    -----
    Parameters (``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``): ``A`` learning rate [0, 1],
    ``R`` reward sensitivity [0, 30], ``P`` punishment sensitivity [0, 30], ``xi`` lapse
    rate [0, 1]. hBayesDM's initial values: 0.1, 1, 1, 0.1.
    Columns: ``participant``, ``choice``, ``gain``, ``loss`` (read as ``-|loss|``).

    References
    ----------
    Aylward, J., Valton, V., Ahn, W.-Y., Bond, R. L., Dayan, P., Roiser, J. P., & Robinson, O. J.
    (2019). Altered learning under uncertainty in unmedicated mood and anxiety disorders.
    *Nature Human Behaviour*, 3, 1116-1123.
    """
    return _gain_loss_model(
        "bandit4arm_singleA_lapse",
        n_options,
        {"A": unit(), "R": bounded(0.0, 30.0), "P": bounded(0.0, 30.0), "xi": unit()},
        alpha_rew=lambda p: p.A,
        alpha_pun=lambda p: p.A,
        forget_rew=lambda p: p.A,
        forget_pun=lambda p: p.A,
        rew_scale=lambda p: p.R,
        pun_scale=lambda p: p.P,
        lapse=True,
        description="bandit4arm_lapse with one learning rate for rewards and punishments",
        citation="Aylward et al. (2019); hBayesDM bandit4arm_singleA_lapse",
    )


@register
def bandit4arm_2par_lapse(n_options: int = 4) -> Model:
    r"""HBayesDM's ``bandit4arm_2par_lapse``: learning rates and lapse, no outcome sensitivities.

    As :func:`bandit4arm_lapse` with :math:`R = P = 1`:

    .. math::

        Q^r_{t+1}(c_t) = Q^r_t(c_t) + A_{rew}(g_t - Q^r_t(c_t)), \quad
        Q^p_{t+1}(c_t) = Q^p_t(c_t) + A_{pun}(l_t - Q^p_t(c_t)),

        Q^r_{t+1}(k) = (1 - A_{rew})\,Q^r_t(k), \quad Q^p_{t+1}(k) = (1 - A_{pun})\,Q^p_t(k)
        \ (k \ne c_t),

        P(c_t = k) = (1 - \xi)\,\mathrm{softmax}_k(Q^r_t + Q^p_t) + \xi / K.

    With outcomes of size 1 the softmax is then nearly flat (values stay within [-1, 1]):
    this is hBayesDM's model as written.

    Parameters
    ----------
    n_options : int, default 4
        Number of arms.

    Notes
    -----
    Parameters (``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``): ``Arew`` [0, 1], ``Apun``
    [0, 1], ``xi`` lapse rate [0, 1]. hBayesDM's initial values: 0.1, 0.1, 0.1.
    Columns: ``participant``, ``choice``, ``gain``, ``loss`` (read as ``-|loss|``).

    References
    ----------
    Aylward, J., Valton, V., Ahn, W.-Y., Bond, R. L., Dayan, P., Roiser, J. P., & Robinson, O. J.
    (2019). Altered learning under uncertainty in unmedicated mood and anxiety disorders.
    *Nature Human Behaviour*, 3, 1116-1123.
    """
    return _gain_loss_model(
        "bandit4arm_2par_lapse",
        n_options,
        {"Arew": unit(), "Apun": unit(), "xi": unit()},
        alpha_rew=lambda p: p.Arew,
        alpha_pun=lambda p: p.Apun,
        forget_rew=lambda p: p.Arew,
        forget_pun=lambda p: p.Apun,
        rew_scale=_one,
        pun_scale=_one,
        lapse=True,
        description="reward/punishment learning rates and a lapse rate (outcomes unscaled)",
        citation="Aylward et al. (2019); hBayesDM bandit4arm_2par_lapse",
    )


@register
def bandit4arm2_kalman_filter(n_options: int = 4, *, sigma_o: float = 4.0) -> Model:
    r"""HBayesDM's ``bandit4arm2_kalman_filter``: Kalman-filter learning of drifting payoffs (Daw et al. 2006).

    Each arm's payoff is believed to follow a decaying Gaussian random walk; the learner
    tracks its mean :math:`\mu_t(k)` and variance :math:`\sigma^2_t(k)`, starting (and
    restarting at each block) at :math:`\mu_0` and :math:`\sigma_0^2`. The choice is a softmax
    of the means,

    .. math::

        P(c_t = k) = \mathrm{softmax}_k(\beta\,\mu_t),

    and after payoff :math:`o_t` the chosen arm is updated with the Kalman gain

    .. math::

        \kappa_t = \frac{\sigma^2_t(c_t)}{\sigma^2_t(c_t) + \sigma_O^2}, \quad
        \mu(c_t) \leftarrow \mu_t(c_t) + \kappa_t\,(o_t - \mu_t(c_t)), \quad
        \sigma^2(c_t) \leftarrow (1 - \kappa_t)\,\sigma^2_t(c_t),

    after which every arm diffuses:

    .. math::

        \mu_{t+1}(k) = \lambda\,\mu(k) + (1 - \lambda)\,\theta, \qquad
        \sigma^2_{t+1}(k) = \lambda^2\,\sigma^2(k) + \sigma_D^2.

    The observation noise :math:`\sigma_O = 4` is fixed, as in hBayesDM.

    Latents (:meth:`bayesrl.Fit.latents`): every arm's ``mean`` and ``var`` before the trial,
    and ``chosen_value`` :math:`\mu_t(c_t)`, ``chosen_variance`` :math:`\sigma^2_t(c_t)`,
    ``prediction_error`` :math:`o_t - \mu_t(c_t)` and ``kalman_gain`` :math:`\kappa_t`.

    Parameters
    ----------
    n_options : int, default 4
        Number of arms (hBayesDM's ``banditNarm_kalman_filter`` for N arms).
    sigma_o : float, default 4
        Standard deviation of the observation noise, :math:`\sigma_O`.

    Notes
    -----
    Parameters (hBayesDM names, ``Phi_approx`` links, group priors ``mu ~ N(0, 1)`` and
    ``sigma ~ half-Cauchy(0, 5)`` for all six, as in hBayesDM's Stan code):

    - ``lambda``: decay factor, [0, 1];
    - ``theta``: decay centre, [0, 100];
    - ``beta``: inverse softmax temperature, [0, 1];
    - ``mu0``: anticipated initial mean of every arm, [0, 100];
    - ``sigma0``: anticipated initial standard deviation of every arm, [0, 15];
    - ``sigmaD``: standard deviation of the diffusion noise, [0, 15].

    hBayesDM's initial values: 0.9, 50, 0.1, 85, 6, 3. ``lambda`` is a Python keyword: inside
    ``policy``/``update`` it is the field ``params.lambda_``; everywhere else (priors,
    posterior, summaries) it is ``lambda``.
    Columns: ``participant`` (``subjID``), ``choice`` (1..K), ``outcome`` (the payoff; hBayesDM
    requires 1..100); optional ``trial``, ``block``.

    Sampling is slow: choices barely inform ``mu0`` and ``sigma0``, so their half-Cauchy(0, 5)
    group scales keep a heavy tail in which ``Phi_approx`` pins participants' values at the
    bounds and NUTS needs tiny steps and trees of up to 2^10 leapfrog steps. Measured tree
    sizes, recovery and a quicker design (e.g. ``max_tree_depth=7``) are in
    ``docs/recovery_kalman.md``.

    References
    ----------
    Daw, N. D., O'Doherty, J. P., Dayan, P., Seymour, B., & Dolan, R. J. (2006). Cortical
    substrates for exploratory decisions in humans. *Nature*, 441(7095), 876-879.
    """
    return kalman_filter_model(
        "bandit4arm2_kalman_filter",
        n_options,
        sigma_o=sigma_o,
        payoff=lambda t: t.outcome,
        columns=("outcome",),
        citation="Daw et al. (2006); hBayesDM bandit4arm2_kalman_filter",
    )


def kalman_filter_model(name, n_options, *, sigma_o, payoff, columns, citation) -> Model:
    """The Kalman-filter bandit with ``payoff(trial)`` as the observed payoff (one place for both spellings)."""
    wide = Prior(sigma_family="halfcauchy", sigma_scale=5.0)
    obs_var = float(sigma_o) ** 2

    def init(n, p):
        dtype = jnp.result_type(float)
        return KalmanState(jnp.full((n,), p.mu0, dtype=dtype), jnp.full((n,), p.sigma0**2, dtype=dtype))

    def policy(s, p, t):
        return p.beta * s.mean

    def update(s, p, t):
        c = t.choice
        var_c = learning.chosen(s.var, c)
        gain = var_c / (var_c + obs_var)
        mean = learning.add_at(s.mean, c, gain * (payoff(t) - learning.chosen(s.mean, c)))
        var = learning.set_at(s.var, c, var_c * (1.0 - gain))
        lam = p.lambda_
        return KalmanState(lam * mean + (1.0 - lam) * p.theta, lam**2 * var + p.sigmaD**2)

    def latents(s, p, t, n):
        c = t.choice
        return {
            "chosen_value": s.mean[c],
            "chosen_variance": s.var[c],
            "prediction_error": payoff(t) - s.mean[c],
            "kalman_gain": s.var[c] / (s.var[c] + obs_var),
        }

    return Model(
        name=name,
        params={
            "lambda": unit(wide),
            "theta": bounded(0.0, 100.0, wide),
            "beta": unit(wide),
            "mu0": bounded(0.0, 100.0, wide),
            "sigma0": bounded(0.0, 15.0, wide),
            "sigmaD": bounded(0.0, 15.0, wide),
        },
        init_state=init,
        policy=policy,
        update=update,
        latents=latents,
        n_options=n_options,
        columns=columns,
        description="Kalman filter on drifting payoffs, softmax of the means",
        citation=citation,
        options={"n_options": n_options, "sigma_o": sigma_o},
    )
