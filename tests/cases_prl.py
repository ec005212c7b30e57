"""Test cases for the probabilistic reversal learning family (NumPy oracles from hBayesDM's Stan code)."""

import numpy as np
from cases import Case, log_softmax, ragged_table, register_case

import bayesrl as brl

PRL_NAMES = (
    "prl_ewa",
    "prl_fictitious",
    "prl_fictitious_rp",
    "prl_fictitious_rp_woa",
    "prl_fictitious_woa",
    "prl_rp",
)


def prl_oracle(model, p, a):
    """One participant, written from prl_*.stan (0-based choices; values reset at each block)."""
    name = model.name
    n_t = len(a["choice"])
    out = np.zeros(n_t)
    ev = np.zeros(2)
    ew = np.zeros(2)
    for t in range(n_t):
        if a["block_start"][t]:
            ev = np.zeros(2)
            ew = np.zeros(2)
        if not a["valid"][t]:
            continue
        c = int(a["choice"][t])
        o = float(a["outcome"][t])
        beta = p["beta"]
        if name in ("prl_ewa", "prl_rp"):
            out[t] = log_softmax(ev * beta)[c]
        else:
            alpha = p.get("alpha", 0.0)
            # prob[1] = 1 / (1 + exp(beta * (alpha - (ev[1] - ev[2])))), prob[2] = 1 - prob[1], in logs
            x = beta * (alpha - (ev[0] - ev[1]))
            out[t] = -np.logaddexp(0.0, x) if c == 0 else -np.logaddexp(0.0, -x)
        if name == "prl_ewa":
            ewt1 = ew[c]
            ew[c] = ew[c] * p["rho"] + 1.0
            ev[c] = (ev[c] * p["phi"] * ewt1 + o) / ew[c]
        elif name == "prl_rp":
            pe = o - ev[c]
            ev[c] += (p["Arew"] if o > 0 else p["Apun"]) * pe
        else:
            pe = o - ev[c]
            pe_nc = -o - ev[1 - c]
            if "eta" in p:
                eta = p["eta"]
            else:
                eta = p["eta_pos"] if pe >= 0 else p["eta_neg"]
            ev[c] += eta * pe
            ev[1 - c] += eta * pe_nc
    return out


def _table(rng):
    # hBayesDM codes outcomes 1 / -1; 0 exercises the ties (outcome > 0 in prl_rp, PE >= 0 in
    # prl_fictitious_rp*), other magnitudes the EWA weighting. (The multiple-block example's
    # 25 / -25 with beta near 10 makes choices certain, log-likelihood exactly 0: see test_prl.py.)
    return ragged_table(rng, {"outcome": lambda r: float(r.choice([-1.0, 1.0, 0.0, 1.5, -0.5]))}, n_options=2)


def _task():
    return brl.tasks.probabilistic_reversal(30, reversal_every=10, n_blocks=2)


for _name in PRL_NAMES:
    register_case(
        _name,
        Case(
            make_model=lambda n=_name: brl.models.get(n)(),
            make_table=_table,
            make_task=_task,
            oracle=prl_oracle,
        ),
    )
