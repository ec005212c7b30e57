"""Test cases for the two-step task models (NumPy oracles written from Daw et al. 2011 and hBayesDM's ts_par*.stan).

The oracle keeps hBayesDM's layout: six model-free values, 1-2 for the first stage and 3-6 for
the second-stage options 1-4, and computes each stage's probability as a logistic of a value
difference, the way the Stan code does (not a softmax over padded logits).
"""

import math

import numpy as np
from cases import Case, ragged_table, register_case

import bayesrl as brl


def log_inv_logit(x):
    """log(1 / (1 + exp(-x))), stable for large |x|."""
    return -math.log1p(math.exp(-x)) if x > 0 else x - math.log1p(math.exp(x))


def bernoulli_log(y, x):
    """log P(y) for y in {0, 1} with P(1) = inv_logit(x)."""
    return log_inv_logit(x) if y == 1 else log_inv_logit(-x)


def twostep_oracle(model, p, a):
    """One participant: log P(level1) + log P(level2 | reached state) per trial, 0 where masked."""
    tp = model.options["trans_prob"]
    a1 = p.get("a1", p.get("a"))
    a2 = p.get("a2", p.get("a"))
    b1 = p.get("beta1", p.get("beta"))
    b2 = p.get("beta2", p.get("beta"))
    lam = p.get("lambda", 1.0)
    out = np.zeros(len(a["valid"]))
    v = prev = None
    for t in range(len(out)):
        if t == 0 or a["block_start"][t]:
            v = np.zeros(7)  # 1-based: v[1], v[2] first stage; v[3..6] second-stage options 1-4
            prev = None
        if not a["valid"][t]:
            continue
        c1 = int(a["choice"][t, 0]) + 1  # 1, 2
        c2 = int(a["choice"][t, 1]) + 1  # 1..4
        r = a["outcome"][t]
        mb1 = tp * max(v[3], v[4]) + (1 - tp) * max(v[5], v[6])
        mb2 = (1 - tp) * max(v[3], v[4]) + tp * max(v[5], v[6])
        h1 = p["w"] * mb1 + (1 - p["w"]) * v[1]
        h2 = p["w"] * mb2 + (1 - p["w"]) * v[2]
        x1 = b1 * (h2 - h1) + (0.0 if prev is None else p["pi"] * (2 * prev - 3))
        ll = bernoulli_log(c1 - 1, x1)
        x2 = b2 * (v[6] - v[5]) if c2 > 2 else b2 * (v[4] - v[3])
        ll += bernoulli_log(1 - c2 % 2, x2)
        out[t] = ll
        v[c1] += a1 * (v[2 + c2] - v[c1])
        v[2 + c2] += a2 * (r - v[2 + c2])
        v[c1] += lam * a1 * (r - v[2 + c2])
        prev = c1
    return out


def twostep_table(rng):
    """hBayesDM's columns (subjID, level1_choice 1/2, level2_choice 1-4, reward 0/1) with gaps.

    Besides whole missing rows, a few rows miss only the second-stage choice (masked whole).
    """
    columns = {
        "level2_choice": lambda r: float(r.integers(1, 5)),
        "reward": lambda r: float(r.integers(0, 2)),
    }
    df = ragged_table(rng, columns, n_options=2).rename(columns={"choice": "level1_choice"})
    partly = df["level1_choice"].notna() & (rng.random(len(df)) < 0.04)
    df.loc[partly, "level2_choice"] = np.nan
    return df


def twostep_task():
    return brl.tasks.two_step(60, seed=3)


for _name in ("ts_par4", "ts_par6", "ts_par7"):
    register_case(
        _name,
        Case(
            make_model=lambda n=_name: brl.models.get(n)(),
            make_table=twostep_table,
            make_task=twostep_task,
            oracle=twostep_oracle,
        ),
    )
