"""Regenerate ``bandit2arm.csv``: ``python -m bayesrl.datasets.make_bandit2arm``.

20 participants x 100 trials from ``rescorla_wagner`` with group values (unconstrained,
Phi_approx scale) alpha_mu=-0.6, alpha_sigma=0.5, beta_mu=0.3, beta_sigma=0.4, reward
probabilities 0.7 / 0.3 and outcomes 1 / -1 as in hBayesDM's bandit2arm example, seed 2024.
"""

from pathlib import Path

import bayesrl as brl

GROUP = {"alpha_mu": -0.6, "alpha_sigma": 0.5, "beta_mu": 0.3, "beta_sigma": 0.4}


def make():
    """Simulate the data set (a DataFrame in the long format)."""
    model = brl.models.rescorla_wagner(n_options=2)
    task = brl.tasks.bandit([0.7, 0.3], n_trials=100, reward=1.0, no_reward=-1.0)
    return brl.simulate(model, group=GROUP, n_participants=20, task=task, seed=2024)


if __name__ == "__main__":
    df = make()
    df["outcome"] = df["outcome"].astype(int)
    df.round(6).to_csv(Path(__file__).with_name("bandit2arm.csv"), index=False)
    print(df.groupby("participant")[["true_alpha", "true_beta"]].first().describe())
