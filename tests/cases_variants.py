"""Test cases for composed model variants and the Pearce-Hall hybrid (one plain NumPy oracle per composition)."""

import numpy as np
from cases import Case, ragged_table, register_case

import bayesrl as brl

M = brl.models


def make_oracle(base, lapse=False, perseveration=None, forgetting=False, free_q0=False):
    """An oracle for ``base`` in {"rw", "rw_asym", "pearce_hall"} with the listed mechanisms.

    Written from the equations in the docstrings, independently of the package: softmax(beta q)
    (+ kappa * trace), mixed with a uniform lapse; delta rule (asymmetric / associability-weighted);
    unchosen values decay toward the initial value; a one-hot or decaying choice trace.
    """

    def oracle(model, p, a):
        k = model.n_options
        q_init = p["q0"] if free_q0 else 0.0
        n_t = len(a["choice"])
        out = np.zeros(n_t)
        for t in range(n_t):
            if t == 0 or a["block_start"][t]:
                q = np.full(k, q_init, dtype=float)
                assoc = np.full(k, p.get("alpha0", 0.0), dtype=float)
                trace = np.zeros(k)
            logits = p["beta"] * q
            if perseveration:
                logits = logits + p["kappa"] * trace
            e = np.exp(logits - logits.max())
            prob = e / e.sum()
            if lapse:
                prob = (1.0 - p["xi"]) * prob + p["xi"] / k
            if not a["valid"][t]:
                continue
            c = int(a["choice"][t])
            out[t] = np.log(prob[c])
            pe = a["outcome"][t] - q[c]
            if base == "rw":
                q[c] += p["alpha"] * pe
            elif base == "rw_asym":
                q[c] += (p["alpha_pos"] if pe >= 0 else p["alpha_neg"]) * pe
            else:  # Pearce-Hall: value first, with the associability from before the outcome
                q[c] += p["kappa"] * assoc[c] * pe
                assoc[c] = p["eta"] * abs(pe) + (1.0 - p["eta"]) * assoc[c]
            if forgetting:
                for j in range(k):
                    if j != c:
                        q[j] = (1.0 - p["phi"]) * q[j] + p["phi"] * q_init
            if perseveration:
                rate = p["tau_c"] if perseveration == "decay" else 1.0
                onehot = np.eye(k)[c]
                trace = trace + rate * (onehot - trace)
        return out

    return oracle


def _table(rng):
    return ragged_table(rng, {"outcome": lambda r: float(r.choice([-1.0, 0.0, 1.0, 0.5]))}, n_options=3)


def _task():
    schedule = brl.tasks.reversal_schedule([0.8, 0.5, 0.2], n_trials=60, every=20)
    return brl.tasks.bandit(schedule, reward=1.0, no_reward=-1.0)


def rw():
    return M.rescorla_wagner(n_options=3)


VARIANT_CASES = {
    "rescorla_wagner+lapse": (lambda: M.with_lapse(rw()), make_oracle("rw", lapse=True)),
    "rescorla_wagner+perseveration(decay)": (
        lambda: M.with_perseveration(rw(), decay=True),
        make_oracle("rw", perseveration="decay"),
    ),
    "rescorla_wagner+perseveration": (lambda: M.with_perseveration(rw()), make_oracle("rw", perseveration="last")),
    "rescorla_wagner+forgetting": (lambda: M.with_forgetting(rw()), make_oracle("rw", forgetting=True)),
    "rescorla_wagner+free_q0": (lambda: M.with_free_initial_value(rw()), make_oracle("rw", free_q0=True)),
    "rescorla_wagner+free_q0+forgetting": (
        lambda: M.with_forgetting(M.with_free_initial_value(rw())),
        make_oracle("rw", free_q0=True, forgetting=True),
    ),
    "rescorla_wagner_asymmetric+lapse+forgetting": (
        lambda: M.with_forgetting(M.with_lapse(M.rescorla_wagner_asymmetric(n_options=3))),
        make_oracle("rw_asym", lapse=True, forgetting=True),
    ),
    "rescorla_wagner_pearce_hall": (lambda: M.rescorla_wagner_pearce_hall(n_options=3), make_oracle("pearce_hall")),
}

for _name, (_make, _oracle) in VARIANT_CASES.items():
    register_case(_name, Case(make_model=_make, make_table=_table, make_task=_task, oracle=_oracle))
