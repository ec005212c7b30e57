"""Test cases for the 4-armed / N-armed bandit family (NumPy oracles written from hBayesDM's Stan code)."""

import numpy as np
from cases import Case, log_softmax, ragged_table, register_case

import bayesrl as brl

GAIN_LOSS = ("bandit4arm_4par", "bandit4arm_lapse", "bandit4arm_lapse_decay", "bandit4arm_singleA_lapse")
GAIN_LOSS += ("bandit4arm_2par_lapse",)


def gain_loss_oracle(model, p, a):
    """hBayesDM bandit4arm_*.stan, one participant, K arms (Stan writes K = 4)."""
    k = model.n_options
    a_rew = p.get("Arew", p.get("A"))
    a_pun = p.get("Apun", p.get("A"))
    r_sens = p.get("R", 1.0)  # bandit4arm_2par_lapse has no R and P: outcomes enter unscaled
    p_sens = p.get("P", 1.0)
    xi = p.get("xi")
    n_t = len(a["choice"])
    out = np.zeros(n_t)
    qr = qp = qsum = None
    for t in range(n_t):
        if t == 0 or a["block_start"][t]:
            qr, qp, qsum = np.zeros(k), np.zeros(k), np.zeros(k)
        if not a["valid"][t]:
            continue
        c = int(a["choice"][t])
        if xi is None:
            out[t] = log_softmax(qsum)[c]
        else:
            soft = np.exp(log_softmax(qsum))
            out[t] = np.log(soft[c] * (1 - xi) + xi / k)
        rew = a["gain"][t]
        los = -1 * np.abs(a["loss"][t])  # hBayesDM preprocessing
        pe_r = r_sens * rew - qr[c]
        pe_p = p_sens * los - qp[c]
        qr_c, qp_c = qr[c], qp[c]
        if "d" in p:  # bandit4arm_lapse_decay: decay of every arm instead of fictive updating
            qr = (1 - p["d"]) * qr
            qp = (1 - p["d"]) * qp
        else:
            qr = qr + a_rew * (-qr)
            qp = qp + a_pun * (-qp)
        qr[c] = qr_c + a_rew * pe_r
        qp[c] = qp_c + a_pun * pe_p
        qsum = qr + qp
    return out


def kalman_oracle(model, p, a):
    """hBayesDM bandit4arm2_kalman_filter.stan, one participant, K arms."""
    k = model.n_options
    sigma_o = model.options.get("sigma_o", 4.0)
    n_t = len(a["choice"])
    out = np.zeros(n_t)
    mu_ev = sd_ev_sq = None
    for t in range(n_t):
        if t == 0 or a["block_start"][t]:
            mu_ev = np.full(k, p["mu0"])
            sd_ev_sq = np.full(k, p["sigma0"] ** 2)
        if not a["valid"][t]:
            continue
        c = int(a["choice"][t])
        out[t] = log_softmax(p["beta"] * mu_ev)[c]
        gain = sd_ev_sq[c] / (sd_ev_sq[c] + sigma_o**2)
        payoff = a["outcome"][t] if "outcome" in a else a["gain"][t] - abs(a["loss"][t])  # banditNarm
        pe = payoff - mu_ev[c]
        mu_ev[c] += gain * pe
        sd_ev_sq[c] *= 1 - gain
        mu_ev = mu_ev * p["lambda"] + (1 - p["lambda"]) * p["theta"]
        sd_ev_sq = sd_ev_sq * p["lambda"] ** 2 + p["sigmaD"] ** 2
    return out


def net_delta_oracle(model, p, a):
    """hBayesDM banditNarm_delta.stan: Rescorla-Wagner on rew + los, los = -|loss|."""
    k = model.n_options
    out = np.zeros(len(a["choice"]))
    ev = None
    for t in range(len(out)):
        if t == 0 or a["block_start"][t]:
            ev = np.zeros(k)
        if not a["valid"][t]:
            continue
        c = int(a["choice"][t])
        out[t] = log_softmax(p["tau"] * ev)[c]
        ev[c] += p["A"] * (a["gain"][t] - abs(a["loss"][t]) - ev[c])
    return out


def gain_loss_table(n_options):
    def make(rng):
        columns = {
            # hBayesDM's coding (gain 0/1, loss 0/-1), plus a positive loss, which is read as -|loss|
            "gain": lambda r: float(r.choice([0.0, 1.0])),
            "loss": lambda r: float(r.choice([0.0, -1.0, -1.0, 1.0])),
        }
        return ragged_table(rng, columns, n_options=n_options)

    return make


def gain_loss_task(n_options):
    def make():
        p_gain = brl.tasks.random_walk_probabilities(60, n_options, seed=1)
        p_loss = brl.tasks.random_walk_probabilities(60, n_options, seed=2)
        return brl.tasks.gain_loss_bandit(p_gain, p_loss)

    return make


def kalman_table(n_options):
    def make(rng):
        return ragged_table(rng, {"outcome": lambda r: float(r.integers(1, 101))}, n_options=n_options)

    return make


def kalman_task(n_options):
    def make():
        return brl.tasks.drifting_bandit(n_trials=60, n_options=n_options, seed=3)

    return make


for _name in GAIN_LOSS:
    register_case(
        _name,
        Case(
            make_model=lambda n=_name: brl.models.get(n)(),
            make_table=gain_loss_table(4),
            make_task=gain_loss_task(4),
            oracle=gain_loss_oracle,
        ),
    )
# N arms: the same models with 3 and 5 arms (hBayesDM's banditNarm_*).
register_case(
    "bandit4arm_lapse_decay_5arm",
    Case(
        make_model=lambda: brl.models.bandit4arm_lapse_decay(n_options=5),
        make_table=gain_loss_table(5),
        make_task=gain_loss_task(5),
        oracle=gain_loss_oracle,
    ),
)
register_case(
    "bandit4arm2_kalman_filter",
    Case(
        make_model=lambda: brl.models.bandit4arm2_kalman_filter(),
        make_table=kalman_table(4),
        make_task=kalman_task(4),
        oracle=kalman_oracle,
    ),
)
register_case(
    "bandit4arm2_kalman_filter_3arm",
    Case(
        make_model=lambda: brl.models.bandit4arm2_kalman_filter(n_options=3, sigma_o=6.0),
        make_table=kalman_table(3),
        make_task=kalman_task(3),
        oracle=kalman_oracle,
    ),
)

# hBayesDM's banditNarm_* names, with other numbers of arms.
register_case(
    "banditNarm_4par",
    Case(
        make_model=lambda: brl.models.banditNarm_4par(n_options=3),
        make_table=gain_loss_table(3),
        make_task=gain_loss_task(3),
        oracle=gain_loss_oracle,
    ),
)
register_case(
    "banditNarm_lapse_decay",
    Case(
        make_model=lambda: brl.models.banditNarm_lapse_decay(n_options=6),
        make_table=gain_loss_table(6),
        make_task=gain_loss_task(6),
        oracle=gain_loss_oracle,
    ),
)
for _name, _k in (("banditNarm_lapse", 5), ("banditNarm_singleA_lapse", 3), ("banditNarm_2par_lapse", 5)):
    register_case(
        _name,
        Case(
            make_model=lambda n=_name, k=_k: brl.models.get(n)(n_options=k),
            make_table=gain_loss_table(_k),
            make_task=gain_loss_task(_k),
            oracle=gain_loss_oracle,
        ),
    )
register_case(
    "banditNarm_delta",
    Case(
        make_model=lambda: brl.models.banditNarm_delta(n_options=5),
        make_table=gain_loss_table(5),
        make_task=gain_loss_task(5),
        oracle=net_delta_oracle,
    ),
)


def net_payoff_table(n_options):
    def make(rng):
        columns = {
            "gain": lambda r: float(r.integers(0, 101)),
            "loss": lambda r: float(-r.integers(0, 30)),
        }
        return ragged_table(rng, columns, n_options=n_options)

    return make


register_case(
    "banditNarm_kalman_filter",
    Case(
        make_model=lambda: brl.models.banditNarm_kalman_filter(n_options=5),
        make_table=net_payoff_table(5),
        make_task=lambda: brl.tasks.drifting_bandit(n_trials=60, n_options=5, fields="gain_loss", seed=4),
        oracle=kalman_oracle,
    ),
)
