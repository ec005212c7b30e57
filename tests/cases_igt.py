"""Test cases for the Iowa Gambling Task models (NumPy oracles written from hBayesDM's igt_*.stan)."""

import numpy as np
from cases import Case, log_softmax, ragged_table, register_case

import bayesrl as brl


def _outcome(model, a, t):
    """hBayesDM's preprocessing: outcome = (gain - |loss|) / payscale, sign_out = sign(gain - |loss|)."""
    net = a["gain"][t] - abs(a["loss"][t])
    return net / model.options["payscale"], float(np.sign(net))


def _util(x, p):
    if x >= 0:
        return x ** p["alpha"]
    return -1 * p["lambda"] * (-1 * x) ** p["alpha"]


def pvl_oracle(model, p, a):
    """igt_pvl_delta.stan / igt_pvl_decay.stan, one participant."""
    decay = model.name == "igt_pvl_decay"
    theta = 3 ** p["cons"] - 1
    out = np.zeros(len(a["choice"]))
    ev = None
    for t in range(len(out)):
        if t == 0 or a["block_start"][t]:
            ev = np.zeros(4)
        if not a["valid"][t]:
            continue
        c = int(a["choice"][t])
        out[t] = log_softmax(theta * ev)[c]
        cur_util = _util(_outcome(model, a, t)[0], p)
        if decay:
            ev = ev * p["A"]
            ev[c] += cur_util
        else:
            ev[c] += p["A"] * (cur_util - ev[c])
    return out


def vpp_oracle(model, p, a):
    """igt_vpp.stan, one participant."""
    theta = 3 ** p["cons"] - 1
    out = np.zeros(len(a["choice"]))
    ev = pers = v = None
    for t in range(len(out)):
        if t == 0 or a["block_start"][t]:
            ev, pers, v = np.zeros(4), np.zeros(4), np.zeros(4)
        if not a["valid"][t]:
            continue
        c = int(a["choice"][t])
        out[t] = log_softmax(theta * v)[c]
        x = _outcome(model, a, t)[0]
        pers = pers * p["K"]
        if x >= 0:
            cur_util = x ** p["alpha"]
            pers[c] += p["epP"]
        else:
            cur_util = -1 * p["lambda"] * (-1 * x) ** p["alpha"]
            pers[c] += p["epN"]
        ev[c] += p["A"] * (cur_util - ev[c])
        v = p["w"] * ev + (1 - p["w"]) * pers
    return out


def orl_oracle(model, p, a):
    """igt_orl.stan, one participant."""
    k_tr = 3 ** p["K"] - 1
    out = np.zeros(len(a["choice"]))
    ef = ev = pers = util = None
    for t in range(len(out)):
        if t == 0 or a["block_start"][t]:
            ef, ev, pers, util = np.zeros(4), np.zeros(4), np.zeros(4), np.zeros(4)
        if not a["valid"][t]:
            continue
        c = int(a["choice"][t])
        out[t] = log_softmax(util)[c]
        x, sign_out = _outcome(model, a, t)
        pe_val = x - ev[c]
        pe_freq = sign_out - ef[c]
        pe_freq_fic = -sign_out / 3 - ef
        ef_chosen, ev_chosen = ef[c], ev[c]
        if x >= 0:
            ef = ef + p["Apun"] * pe_freq_fic
            ef[c] = ef_chosen + p["Arew"] * pe_freq
            ev[c] = ev_chosen + p["Arew"] * pe_val
        else:
            ef = ef + p["Arew"] * pe_freq_fic
            ef[c] = ef_chosen + p["Apun"] * pe_freq
            ev[c] = ev_chosen + p["Apun"] * pe_val
        pers[c] = 1
        pers = pers / (1 + k_tr)
        util = ev + ef * p["betaF"] + pers * p["betaP"]
    return out


def igt_table(rng):
    # hBayesDM's coding (gains 50/100, losses <= 0) plus a positive loss (read as -|loss|) and
    # net outcomes of exactly zero (gain 50, loss -50; gain 0, loss 0)
    pairs = [(100.0, 0.0), (100.0, -250.0), (100.0, -1250.0), (50.0, 0.0), (50.0, -50.0), (50.0, -75.0)]
    pairs += [(0.0, 0.0), (50.0, 250.0)]

    drawn = []  # ragged_table draws "gain" then "loss" for each row

    def gain(r):
        drawn.append(pairs[int(r.integers(len(pairs)))])
        return drawn[-1][0]

    return ragged_table(rng, {"gain": gain, "loss": lambda r: drawn[-1][1]}, n_options=4)


def igt_task():
    return brl.tasks.igt(60, seed=1)


_ORACLES = {"igt_pvl_delta": pvl_oracle, "igt_pvl_decay": pvl_oracle, "igt_vpp": vpp_oracle, "igt_orl": orl_oracle}
for _name, _oracle in _ORACLES.items():
    register_case(
        _name,
        Case(
            make_model=lambda n=_name: brl.models.get(n)(),
            make_table=igt_table,
            make_task=igt_task,
            oracle=_oracle,
        ),
    )
# payscale changes the ORL model itself (no inverse temperature) and the utility's curvature point
register_case(
    "igt_orl_payscale50",
    Case(
        make_model=lambda: brl.models.igt_orl(payscale=50), make_table=igt_table, make_task=igt_task, oracle=orl_oracle
    ),
)
register_case(
    "igt_pvl_delta_payscale1000",
    Case(
        make_model=lambda: brl.models.igt_pvl_delta(payscale=1000),
        make_table=igt_table,
        make_task=igt_task,
        oracle=pvl_oracle,
    ),
)
