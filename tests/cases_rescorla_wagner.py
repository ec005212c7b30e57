"""Test cases for the Rescorla-Wagner family (NumPy oracles written independently)."""

import numpy as np
from cases import Case, log_softmax, ragged_table, register_case

import bayesrl as brl


def rw_oracle(model, p, a):
    """Delta rule + softmax (+ perseveration, asymmetric rates), one participant."""
    name = model.name
    alpha = p.get("alpha", p.get("A"))
    beta = p.get("beta", p.get("tau"))
    init = model.options.get("initial_value", 0.0)
    n_t = len(a["choice"])
    out = np.zeros(n_t)
    q = np.full(model.n_options, init, dtype=float)
    last = -1
    for t in range(n_t):
        if a["block_start"][t]:
            q = np.full(model.n_options, init, dtype=float)
            last = -1
        logits = beta * q
        if name == "rescorla_wagner_perseveration" and last >= 0:
            logits[last] += p["kappa"]
        if not a["valid"][t]:
            continue
        c = int(a["choice"][t])
        out[t] = log_softmax(logits)[c]
        pe = a["outcome"][t] - q[c]
        if name == "rescorla_wagner_asymmetric":
            lr = p["alpha_pos"] if pe >= 0 else p["alpha_neg"]
        else:
            lr = alpha
        q[c] += lr * pe
        last = c
    return out


def _table(rng):
    return ragged_table(rng, {"outcome": lambda r: float(r.choice([-1.0, 0.0, 1.0, 0.5]))}, n_options=3)


def _task():
    schedule = brl.tasks.reversal_schedule([0.8, 0.5, 0.2], n_trials=60, every=20)
    return brl.tasks.bandit(schedule, reward=1.0, no_reward=-1.0)


for _name in ("rescorla_wagner", "rescorla_wagner_asymmetric", "rescorla_wagner_perseveration", "bandit2arm_delta"):
    register_case(
        _name,
        Case(
            make_model=lambda n=_name: brl.models.get(n)(n_options=3),
            make_table=_table,
            make_task=_task,
            oracle=rw_oracle,
        ),
    )
