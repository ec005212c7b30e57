"""Test cases for the probabilistic selection task models (NumPy oracles written from hBayesDM's Stan code)."""

import numpy as np
from cases import Case, ragged_table, register_case

import bayesrl as brl


def log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def pst_oracle(model, p, a):
    """pst_Q / pst_gainloss_Q: ``choice ~ bernoulli_logit(beta * (ev[o1] - ev[o2]))``, ev[chosen] += lr * pe."""
    n_t = len(a["choice"])
    out = np.zeros(n_t)
    ev = np.zeros(6)
    for t in range(n_t):
        if a["block_start"][t]:
            ev = np.zeros(6)
        if not a["valid"][t]:
            continue
        code = int(round(a["type"][t]))
        o1, o2 = code // 10 - 1, code % 10 - 1
        y = int(a["choice"][t])  # 1 = chose option1
        delta = ev[o1] - ev[o2]
        out[t] = log_sigmoid(p["beta"] * delta) if y == 1 else log_sigmoid(-p["beta"] * delta)
        co = o1 if y == 1 else o2
        pe = a["outcome"][t] - ev[co]
        if "alpha" in p:
            lr = p["alpha"]
        else:
            lr = p["alpha_pos"] if pe >= 0 else p["alpha_neg"]
        ev[co] += lr * pe
    return out


def pst_table(rng):
    # training pairs plus novel test pairs (hBayesDM reads any two digits 1..6), outcomes 0/1 and others
    return ragged_table(
        rng,
        {
            "type": lambda r: float(r.choice([12, 34, 56, 12, 34, 56, 13, 62, 45])),
            "reward": lambda r: float(r.choice([0.0, 1.0, 1.0, -1.0, 0.5])),
        },
        n_options=2,
        choice_base=0,
    )


def pst_task():
    return brl.tasks.pst(60)


for _name in ("pst_Q", "pst_gainloss_Q"):
    register_case(
        _name,
        Case(
            make_model=lambda n=_name: brl.models.get(n)(), make_table=pst_table, make_task=pst_task, oracle=pst_oracle
        ),
    )
