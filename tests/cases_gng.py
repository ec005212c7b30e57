"""Test cases for the orthogonalised go/no-go models (NumPy oracles written from hBayesDM's gng_m*.stan)."""

import math

import numpy as np
from cases import Case, ragged_table, register_case

import bayesrl as brl


def inv_logit(x):
    return 1.0 / (1.0 + math.exp(-x))


def gng_oracle(model, p, a):
    """gng_m1.stan ... gng_m4.stan, one participant: Bernoulli log-likelihood of the key press."""
    n_cues = model.options["n_cues"]
    b = p.get("b", 0.0)
    pi = p.get("pi")
    out = np.zeros(len(a["choice"]))
    qv_g = qv_ng = sv = None
    for t in range(len(out)):
        if t == 0 or a["block_start"][t]:
            qv_g, qv_ng, sv = np.zeros(n_cues), np.zeros(n_cues), np.zeros(n_cues)
        if not a["valid"][t]:
            continue
        s = int(a["cue"][t]) - 1
        pressed = int(a["choice"][t])
        o = a["outcome"][t]
        wv_g = qv_g[s] + b + (pi * sv[s] if pi is not None else 0.0)
        wv_ng = qv_ng[s]
        p_go = inv_logit(wv_g - wv_ng)
        p_go = p_go * (1 - p["xi"]) + p["xi"] / 2
        out[t] = math.log(p_go) if pressed == 1 else math.log(1 - p_go)
        if "rhoRew" in p:
            rho = p["rhoRew"] if o >= 0 else p["rhoPun"]
        else:
            rho = p["rho"]
        if pi is not None:
            sv[s] += p["ep"] * (rho * o - sv[s])
        if pressed:
            qv_g[s] += p["ep"] * (rho * o - qv_g[s])
        else:
            qv_ng[s] += p["ep"] * (rho * o - qv_ng[s])
    return out


def gng_table(n_cues=4):
    def make(rng):
        """hBayesDM's columns: trialNum, cue, keyPressed (0/1), outcome (-1, 0, 1), subjID."""
        columns = {
            "cue": lambda r: float(r.integers(1, n_cues + 1)),
            "outcome": lambda r: float(r.choice([-1.0, 0.0, 1.0, 0.5])),
        }
        df = ragged_table(rng, columns, n_options=2, choice_base=0)
        return df.rename(columns={"choice": "keyPressed", "trial": "trialNum"})

    return make


def gng_task():
    return brl.tasks.go_nogo(60, seed=2)


for _name in ("gng_m1", "gng_m2", "gng_m3", "gng_m4"):
    register_case(
        _name,
        Case(
            make_model=lambda n=_name: brl.models.get(n)(),
            make_table=gng_table(),
            make_task=gng_task,
            oracle=gng_oracle,
        ),
    )
register_case(
    "gng_m3_6cues",
    Case(
        make_model=lambda: brl.models.gng_m3(n_cues=6),
        make_table=gng_table(6),
        make_task=gng_task,
        oracle=gng_oracle,
    ),
)
