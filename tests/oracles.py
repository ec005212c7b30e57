"""Plain-NumPy trial loops, written independently of the JAX engine, one per library model."""

import numpy as np


def _log_softmax(x):
    m = x.max()
    return x - m - np.log(np.exp(x - m).sum())


def _run(model_name, p, choice, outcome, valid, block_start, n_options, initial_value=0.0):
    """Per-trial log-likelihood for one participant (0 on invalid trials)."""
    n_t = len(choice)
    out = np.zeros(n_t)
    q = np.full(n_options, initial_value, dtype=float)
    last = -1
    for t in range(n_t):
        if block_start[t]:
            q = np.full(n_options, initial_value, dtype=float)
            last = -1
        logits = p["beta"] * q
        if model_name == "rescorla_wagner_perseveration":
            if last >= 0:
                logits[last] += p["kappa"]
        if not valid[t]:
            continue
        c = int(choice[t])
        out[t] = _log_softmax(logits)[c]
        pe = outcome[t] - q[c]
        if model_name == "rescorla_wagner_asymmetric":
            lr = p["alpha_pos"] if pe >= 0 else p["alpha_neg"]
        else:
            lr = p["alpha"]
        q[c] += lr * pe
        last = c
    return out


ORACLES = {
    "rescorla_wagner": _run,
    "rescorla_wagner_asymmetric": _run,
    "rescorla_wagner_perseveration": _run,
}


def log_likelihood(model, params, arrays):
    """params: dict name -> (participant,); arrays: Dataset.arrays. Returns (participant, trial)."""
    oracle = ORACLES[model.name]
    n_p = arrays["choice"].shape[0]
    rows = []
    for i in range(n_p):
        p = {k: float(np.asarray(v)[i]) for k, v in params.items()}
        rows.append(
            oracle(
                model.name,
                p,
                arrays["choice"][i],
                arrays["outcome"][i],
                arrays["valid"][i],
                arrays["block_start"][i],
                model.n_options,
                model.options.get("initial_value", 0.0),
            )
        )
    return np.stack(rows)
