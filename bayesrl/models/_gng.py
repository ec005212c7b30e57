r"""Orthogonalised go/no-go family (Guitart-Masip et al. 2012): cue-dependent action values.

hBayesDM's ``gng_m1`` ... ``gng_m4``. On each trial one of four cues is shown (``cue`` 1-4,
known before the choice) and the participant presses (go, ``keyPressed = 1``) or withholds
(no-go, ``keyPressed = 0``); the ``outcome`` (e.g. 1 reward, 0 nothing, -1 punishment)
follows. The learner holds, for every cue, a value of going :math:`Q_g` and of not going
:math:`Q_{ng}`; the go weight adds a go bias :math:`b` (``gng_m2`` on) and a Pavlovian term
:math:`\pi\,V(s)` from the cue's own value :math:`V` (``gng_m3`` on). The go probability is
a logistic of the weight difference mixed with a lapse :math:`\xi`:

.. math::

    p_t(\text{go}) = (1 - \xi)\,\mathrm{logistic}\big(W_g(s_t) - W_{ng}(s_t)\big) + \xi / 2,

written as two-option logits :math:`(\log(1 - p_{go}), \log p_{go})`, ordered as the choice
codes (0 = no-go, 1 = go) and computed in log space (:func:`go_nogo_logits`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from .. import learning
from ..model import Model
from ..transforms import Prior, positive, real, unit
from ._bandit4arm import lapse_logits
from ._registry import register

#: hBayesDM's number of cues (go-to-win, nogo-to-win, go-to-avoid, nogo-to-avoid in its example data).
N_CUES = 4

#: hBayesDM's prior for the go bias ``b`` and the Pavlovian bias ``pi``: ``mu ~ N(0, 10)``, ``sigma ~ cauchy(0, 1)``.
_BIAS = Prior(mu_scale=10.0, sigma_scale=1.0, sigma_family="halfcauchy")

#: hBayesDM's prior for the outcome sensitivities (``exp`` link): ``mu ~ N(0, 1)``, ``sigma ~ normal(0, 0.2)``.
_SENSITIVITY = Prior(sigma_scale=0.2)


class GoNoGoState(NamedTuple):
    """Go and no-go action values of every cue."""

    q_go: jnp.ndarray  # (cue,)
    q_nogo: jnp.ndarray  # (cue,)


class PavlovianGoNoGoState(NamedTuple):
    """Go and no-go action values and the (Pavlovian) stimulus value of every cue."""

    q_go: jnp.ndarray  # (cue,)
    q_nogo: jnp.ndarray  # (cue,)
    sv: jnp.ndarray  # (cue,)


def cue_index(cue, n_cues: int = N_CUES):
    """0-based cue index from the 1-based ``cue`` column, clipped to ``0..n_cues-1`` (0 on masked trials)."""
    return jnp.clip(jnp.round(cue).astype(jnp.int32) - 1, 0, n_cues - 1)


def go_nogo_logits(weight_go, weight_nogo, xi):
    r"""Log-probabilities ``(log P(no-go), log P(go))`` of the lapse-mixed logistic choice.

    .. math::

        p_{go} = (1 - \xi)\,\mathrm{logistic}(W_g - W_{ng}) + \xi / 2, \qquad
        1 - p_{go} = (1 - \xi)\,\mathrm{logistic}(W_{ng} - W_g) + \xi / 2,

    each computed as ``logaddexp(log1p(-xi) + log_sigmoid(...), log(xi / 2))``, so neither
    underflows when the weights are far apart (:func:`bayesrl.models._bandit4arm.lapse_logits`
    over the two options).

    Parameters
    ----------
    weight_go, weight_nogo : float scalars
        :math:`W_g(s_t)` and :math:`W_{ng}(s_t)` of the cue shown.
    xi : float scalar in [0, 1]
        Lapse rate ("irreducible noise").

    Returns
    -------
    jax.Array, shape (2,)
        Normalised log-probabilities, index 0 = no-go, 1 = go.
    """
    return lapse_logits(jnp.stack([weight_nogo, weight_go]), xi)


def _check_n_cues(n_cues) -> int:
    if isinstance(n_cues, bool) or int(n_cues) != n_cues or n_cues < 1:
        raise ValueError(f"n_cues must be a positive whole number (hBayesDM: 4), got {n_cues!r}")
    return int(n_cues)


def _gng_model(name, n_cues, params, *, bias, pavlovian, sensitivity, description, citation):
    """One go/no-go model: go ``bias(p)``, a Pavlovian term or not, and ``sensitivity(p, outcome)``."""
    n_cues = _check_n_cues(n_cues)

    def init(n, p):
        zeros = jnp.zeros((n_cues,), dtype=jnp.result_type(float))
        return PavlovianGoNoGoState(zeros, zeros, zeros) if pavlovian else GoNoGoState(zeros, zeros)

    def weights(s, p, cue):
        w_go = learning.chosen(s.q_go, cue) + bias(p)
        if pavlovian:
            w_go = w_go + p.pi * learning.chosen(s.sv, cue)
        return w_go, learning.chosen(s.q_nogo, cue)

    def policy(s, p, t):
        return go_nogo_logits(*weights(s, p, cue_index(t.cue, n_cues)), p.xi)

    def update(s, p, t):
        cue = cue_index(t.cue, n_cues)
        target = sensitivity(p, t.outcome) * t.outcome
        go = t.choice == 1
        q_go = learning.add_at(s.q_go, cue, jnp.where(go, p.ep * (target - learning.chosen(s.q_go, cue)), 0.0))
        q_nogo = learning.add_at(s.q_nogo, cue, jnp.where(go, 0.0, p.ep * (target - learning.chosen(s.q_nogo, cue))))
        if pavlovian:
            sv = learning.add_at(s.sv, cue, p.ep * (target - learning.chosen(s.sv, cue)))
            return PavlovianGoNoGoState(q_go, q_nogo, sv)
        return GoNoGoState(q_go, q_nogo)

    def latents(s, p, t, n):
        cue = cue_index(t.cue, n_cues)
        w_go, w_nogo = weights(s, p, cue)
        chosen = jnp.where(t.choice == 1, s.q_go[cue], s.q_nogo[cue])
        out = {
            "value_go": s.q_go[cue],
            "value_nogo": s.q_nogo[cue],
            "weight_go": w_go,
            "weight_nogo": w_nogo,
            "prediction_error": sensitivity(p, t.outcome) * t.outcome - chosen,
        }
        if pavlovian:
            out["stimulus_value"] = s.sv[cue]
        return out

    return Model(
        name=name,
        params=params,
        init_state=init,
        policy=policy,
        update=update,
        latents=latents,
        n_options=2,
        columns=("cue", "outcome"),
        inputs=("cue",),
        choice_base=0,
        description=description,
        citation=citation,
        options={"n_cues": n_cues},
    )


def _no_bias(p):
    return 0.0


def _go_bias(p):
    return p.b


def _rho(p, outcome):
    return p.rho


def _rho_by_sign(p, outcome):
    return jnp.where(outcome >= 0, p.rhoRew, p.rhoPun)


@register
def gng_m1(n_cues: int = 4) -> Model:
    r"""HBayesDM's ``gng_m1``: Rescorla-Wagner action values plus lapse (Guitart-Masip et al. 2012).

    For the cue :math:`s_t` shown, :math:`W_g(s_t) = Q_g(s_t)`, :math:`W_{ng}(s_t) = Q_{ng}(s_t)`
    and

    .. math::

        p_t(\text{go}) = (1 - \xi)\,\mathrm{logistic}\big(W_g(s_t) - W_{ng}(s_t)\big) + \xi / 2.

    After action :math:`a_t` (go or no-go) and outcome :math:`r_t`, only that action's value
    for that cue learns:

    .. math::

        Q_{a_t}(s_t) \leftarrow Q_{a_t}(s_t) + \epsilon\,(\rho\,r_t - Q_{a_t}(s_t)).

    All values start at 0 (and restart at each block). The logits are the two
    log-probabilities :math:`(\log(1 - p_{go}), \log p_{go})`, computed in log space.
    Latents (:meth:`bayesrl.Fit.latents`): every cue's ``q_go`` and ``q_nogo``; for the cue
    shown ``value_go``, ``value_nogo``, ``weight_go``, ``weight_nogo`` and
    ``prediction_error`` :math:`\rho\,r_t - Q_{a_t}(s_t)`.

    Parameters
    ----------
    n_cues : int, default 4
        Number of cues (hBayesDM's Stan code fixes 4).

    Notes
    -----
    Parameters (hBayesDM names and priors, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``):

    - ``xi``: lapse rate ("irreducible noise"), [0, 1], ``Phi_approx`` link;
    - ``ep``: learning rate, [0, 1], ``Phi_approx`` link;
    - ``rho``: outcome sensitivity ("effective size of reinforcement"), positive, ``exp`` link.

    hBayesDM's fixed initial values (``inits="fixed"``): 0.1, 0.2, exp(2).
    Columns: ``participant`` (``subjID``), ``cue`` (1..``n_cues``; an input, known
    before the choice), ``keyPressed`` (the choice: 1 go, 0 no-go; alias of ``choice``, coding fixed
    with ``choice_base=0``), ``outcome``; optional ``trial`` (``trialNum``), ``block``.
    hBayesDM's example file reads unchanged (its ``success`` and ``congruentOutcome``
    columns are not used). A ``cue`` outside ``1..n_cues`` is clipped into that range, not
    rejected: check your cue coding (hBayesDM's Stan code declares 1-4).

    References
    ----------
    Guitart-Masip, M., Huys, Q. J. M., Fuentemilla, L., Dayan, P., Duzel, E., & Dolan, R. J.
    (2012). Go and no-go learning in reward and punishment: interactions between affect and
    effect. *NeuroImage*, 62(1), 154-166.
    """
    return _gng_model(
        "gng_m1",
        n_cues,
        {"xi": unit(), "ep": unit(), "rho": positive(prior=_SENSITIVITY)},
        bias=_no_bias,
        pavlovian=False,
        sensitivity=_rho,
        description="go/no-go: Rescorla-Wagner action values per cue, lapse (hBayesDM gng_m1)",
        citation="Guitart-Masip et al. (2012); hBayesDM gng_m1",
    )


@register
def gng_m2(n_cues: int = 4) -> Model:
    r"""HBayesDM's ``gng_m2``: :func:`gng_m1` plus a go bias ``b`` (Guitart-Masip et al. 2012).

    .. math::

        W_g(s_t) = Q_g(s_t) + b, \qquad W_{ng}(s_t) = Q_{ng}(s_t),

        p_t(\text{go}) = (1 - \xi)\,\mathrm{logistic}\big(W_g(s_t) - W_{ng}(s_t)\big) + \xi / 2,

        Q_{a_t}(s_t) \leftarrow Q_{a_t}(s_t) + \epsilon\,(\rho\,r_t - Q_{a_t}(s_t)).

    Latents as :func:`gng_m1`.

    Parameters
    ----------
    n_cues : int, default 4
        Number of cues (hBayesDM's Stan code fixes 4).

    Notes
    -----
    Parameters (hBayesDM names and priors):

    - ``xi``: lapse rate, [0, 1] (``Phi_approx``, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``);
    - ``ep``: learning rate, [0, 1] (``Phi_approx``, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``);
    - ``b``: go bias, real (identity, ``mu ~ N(0, 10)``, ``sigma ~ half-Cauchy(0, 1)``);
    - ``rho``: outcome sensitivity, positive (``exp``, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``).

    hBayesDM's fixed initial values: 0.1, 0.2, 0, exp(2). Columns as :func:`gng_m1`:
    ``participant``, ``cue`` (1-4), ``keyPressed`` (1 go, 0 no-go), ``outcome``.

    References
    ----------
    Guitart-Masip, M., Huys, Q. J. M., Fuentemilla, L., Dayan, P., Duzel, E., & Dolan, R. J.
    (2012). Go and no-go learning in reward and punishment: interactions between affect and
    effect. *NeuroImage*, 62(1), 154-166.
    """
    return _gng_model(
        "gng_m2",
        n_cues,
        {"xi": unit(), "ep": unit(), "b": real(_BIAS), "rho": positive(prior=_SENSITIVITY)},
        bias=_go_bias,
        pavlovian=False,
        sensitivity=_rho,
        description="go/no-go: gng_m1 plus a go bias (hBayesDM gng_m2)",
        citation="Guitart-Masip et al. (2012); hBayesDM gng_m2",
    )


@register
def gng_m3(n_cues: int = 4) -> Model:
    r"""HBayesDM's ``gng_m3``: :func:`gng_m2` plus a Pavlovian bias ``pi`` (Guitart-Masip et al. 2012).

    Each cue also has a stimulus value :math:`V(s)`, learned from every outcome after that
    cue whatever the action:

    .. math::

        W_g(s_t) = Q_g(s_t) + b + \pi\,V(s_t), \qquad W_{ng}(s_t) = Q_{ng}(s_t),

        p_t(\text{go}) = (1 - \xi)\,\mathrm{logistic}\big(W_g(s_t) - W_{ng}(s_t)\big) + \xi / 2,

        V(s_t) \leftarrow V(s_t) + \epsilon\,(\rho\,r_t - V(s_t)), \qquad
        Q_{a_t}(s_t) \leftarrow Q_{a_t}(s_t) + \epsilon\,(\rho\,r_t - Q_{a_t}(s_t)).

    Latents as :func:`gng_m1` plus every cue's ``sv`` and the shown cue's ``stimulus_value``.

    Parameters
    ----------
    n_cues : int, default 4
        Number of cues (hBayesDM's Stan code fixes 4).

    Notes
    -----
    Parameters (hBayesDM names and priors):

    - ``xi``: lapse rate, [0, 1] (``Phi_approx``, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``);
    - ``ep``: learning rate, [0, 1] (``Phi_approx``, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``);
    - ``b``: go bias, real (identity, ``mu ~ N(0, 10)``, ``sigma ~ half-Cauchy(0, 1)``);
    - ``pi``: Pavlovian bias, real (identity, ``mu ~ N(0, 10)``, ``sigma ~ half-Cauchy(0, 1)``);
    - ``rho``: outcome sensitivity, positive (``exp``, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``).

    hBayesDM's fixed initial values: 0.1, 0.2, 0, 0, exp(2). Columns as :func:`gng_m1`.

    References
    ----------
    Guitart-Masip, M., Huys, Q. J. M., Fuentemilla, L., Dayan, P., Duzel, E., & Dolan, R. J.
    (2012). Go and no-go learning in reward and punishment: interactions between affect and
    effect. *NeuroImage*, 62(1), 154-166.
    """
    return _gng_model(
        "gng_m3",
        n_cues,
        {"xi": unit(), "ep": unit(), "b": real(_BIAS), "pi": real(_BIAS), "rho": positive(prior=_SENSITIVITY)},
        bias=_go_bias,
        pavlovian=True,
        sensitivity=_rho,
        description="go/no-go: gng_m2 plus a Pavlovian bias (hBayesDM gng_m3)",
        citation="Guitart-Masip et al. (2012); hBayesDM gng_m3",
    )


@register
def gng_m4(n_cues: int = 4) -> Model:
    r"""HBayesDM's ``gng_m4``: :func:`gng_m3` with separate reward and punishment sensitivities (Cavanagh et al. 2013).

    As :func:`gng_m3`, with the outcome sensitivity chosen by the outcome's sign,
    :math:`\rho_t = \rho_{rew}` when :math:`r_t \ge 0` and :math:`\rho_{pun}` when
    :math:`r_t < 0`:

    .. math::

        W_g(s_t) = Q_g(s_t) + b + \pi\,V(s_t), \qquad W_{ng}(s_t) = Q_{ng}(s_t),

        p_t(\text{go}) = (1 - \xi)\,\mathrm{logistic}\big(W_g(s_t) - W_{ng}(s_t)\big) + \xi / 2,

        V(s_t) \leftarrow V(s_t) + \epsilon\,(\rho_t\,r_t - V(s_t)), \qquad
        Q_{a_t}(s_t) \leftarrow Q_{a_t}(s_t) + \epsilon\,(\rho_t\,r_t - Q_{a_t}(s_t)).

    A zero outcome uses ``rhoRew`` (hBayesDM's ``outcome >= 0``), which makes no difference
    since it multiplies 0. Latents as :func:`gng_m3`.

    Parameters
    ----------
    n_cues : int, default 4
        Number of cues (hBayesDM's Stan code fixes 4).

    Notes
    -----
    Parameters (hBayesDM names and priors):

    - ``xi``: lapse rate, [0, 1] (``Phi_approx``, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``);
    - ``ep``: learning rate, [0, 1] (``Phi_approx``, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``);
    - ``b``: go bias, real (identity, ``mu ~ N(0, 10)``, ``sigma ~ half-Cauchy(0, 1)``);
    - ``pi``: Pavlovian bias, real (identity, ``mu ~ N(0, 10)``, ``sigma ~ half-Cauchy(0, 1)``);
    - ``rhoRew``: reward sensitivity, positive (``exp``, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``);
    - ``rhoPun``: punishment sensitivity, positive (``exp``, ``mu ~ N(0, 1)``, ``sigma ~ half-N(0, 0.2)``).

    hBayesDM's fixed initial values: 0.1, 0.2, 0, 0, exp(2), exp(2). Columns as :func:`gng_m1`.

    References
    ----------
    Guitart-Masip, M., Huys, Q. J. M., Fuentemilla, L., Dayan, P., Duzel, E., & Dolan, R. J.
    (2012). Go and no-go learning in reward and punishment: interactions between affect and
    effect. *NeuroImage*, 62(1), 154-166.
    Cavanagh, J. F., Eisenberg, I., Guitart-Masip, M., Huys, Q., & Frank, M. J. (2013).
    Frontal theta overrides Pavlovian learning biases. *J. Neurosci.*, 33(19), 8541-8548.
    """
    return _gng_model(
        "gng_m4",
        n_cues,
        {
            "xi": unit(),
            "ep": unit(),
            "b": real(_BIAS),
            "pi": real(_BIAS),
            "rhoRew": positive(prior=_SENSITIVITY),
            "rhoPun": positive(prior=_SENSITIVITY),
        },
        bias=_go_bias,
        pavlovian=True,
        sensitivity=_rho_by_sign,
        description="go/no-go: gng_m3 with reward/punishment sensitivities (hBayesDM gng_m4)",
        citation="Cavanagh et al. (2013); hBayesDM gng_m4",
    )
