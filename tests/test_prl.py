"""Probabilistic reversal learning: hBayesDM's file formats, the multiple-block reset, the task."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from cases import ragged_table
from cases_prl import PRL_NAMES

import bayesrl as brl
from bayesrl import engine
from bayesrl.data import prepare
from bayesrl.simulate import simulate_batch

# The first rows of hBayesDM's prl_exampleData.txt (tab-separated, outcome 1 / -1), cut to
# two participants of unequal length.
EXAMPLE_TXT = """subjID\ttrial\tchoice\toutcome
1\t1\t1\t1
1\t2\t2\t1
1\t3\t1\t1
1\t4\t1\t1
1\t5\t1\t-1
2\t1\t2\t-1
2\t2\t1\t1
2\t3\t1\t-1
"""

# The format of hBayesDM's prl_multipleB_exampleData.txt: trial numbers restart in each block,
# outcomes are 25 / -25, and extra columns (ExperimentName, choiceSwitch, choice.ACC, choice.RT,
# Subject_Block) must be ignored.
MULTIPLE_B_HEADER = "\t".join(
    [
        "ExperimentName",
        "subjID",
        "block",
        "trial",
        "choice",
        "outcome",
        "choiceSwitch",
        "choice.ACC",
        "choice.RT",
        "Subject_Block",
    ]
)
MULTIPLE_B_TXT = (
    MULTIPLE_B_HEADER
    + """
PRL_Young_Final\t5038\t1\t1\t2\t25\t1\t1\t1430\t5038_1
PRL_Young_Final\t5038\t1\t2\t2\t25\t0\t1\t439\t5038_1
PRL_Young_Final\t5038\t1\t3\t2\t-25\t0\t1\t374\t5038_1
PRL_Young_Final\t5038\t2\t1\t1\t25\t1\t1\t884\t5038_2
PRL_Young_Final\t5038\t2\t2\t1\t-25\t0\t1\t435\t5038_2
PRL_Young_Final\t5036\t1\t1\t1\t25\t1\t1\t1282\t5036_1
PRL_Young_Final\t5036\t1\t2\t2\t-25\t1\t0\t1282\t5036_1
PRL_Young_Final\t5036\t2\t1\t1\t25\t1\t1\t3389\t5036_2
"""
)


def _params(model, rng, n):
    return model.make_params(
        {k: jnp.asarray(spec.constrain(rng.normal(0.0, 0.8, size=n))) for k, spec in model.params.items()}
    )


@pytest.mark.parametrize("name", PRL_NAMES)
def test_hbayesdm_example_format_loads_unchanged(name, tmp_path):
    path = tmp_path / "prl_exampleData.txt"
    path.write_text(EXAMPLE_TXT)
    data = prepare(path, brl.models.get(name)())
    assert list(data.participants) == [1, 2]
    assert data.choice_base == 1
    np.testing.assert_array_equal(data.arrays["choice"], [[0, 1, 0, 0, 0], [1, 0, 0, 0, 0]])
    np.testing.assert_array_equal(data.arrays["outcome"], [[1, 1, 1, 1, -1], [-1, 1, -1, 0, 0]])
    np.testing.assert_array_equal(data.arrays["valid"], [[True] * 5, [True] * 3 + [False] * 2])
    assert not data.arrays["block_start"].any()


def _multiple_b(tmp_path, model, **kwargs):
    path = tmp_path / "prl_multipleB_exampleData.txt"
    path.write_text(MULTIPLE_B_TXT)
    return prepare(path, model, **kwargs)


def test_hbayesdm_multiple_block_format_loads_unchanged(tmp_path):
    data = _multiple_b(tmp_path, brl.models.prl_rp())
    np.testing.assert_array_equal(data.arrays["block_start"], [[0, 0, 0, 1, 0], [0, 0, 1, 0, 0]])


@pytest.mark.parametrize("name", PRL_NAMES)
def test_hbayesdm_multiple_block_format_in_file_order(name, tmp_path):
    """Today's reading of a multipleB file: rows in file order (``trial`` ignored), blocks from ``block``."""
    model = brl.models.get(name)()
    data = _multiple_b(tmp_path, model, columns={"trial": None})
    assert list(data.participants) == [5038, 5036]
    assert set(data.column_map) == {"participant", "choice", "outcome", "block"}  # extra columns ignored
    np.testing.assert_array_equal(data.arrays["choice"], [[1, 1, 1, 0, 0], [0, 1, 0, 0, 0]])
    np.testing.assert_array_equal(data.arrays["outcome"], [[25, 25, -25, 25, -25], [25, -25, 25, 0, 0]])
    np.testing.assert_array_equal(data.arrays["block_start"], [[0, 0, 0, 1, 0], [0, 0, 1, 0, 0]])


@pytest.mark.parametrize("name", PRL_NAMES)
def test_blocks_are_independent_as_in_hbayesdm_multiple_b(name, rng):
    """prl_*_multipleB.stan re-initialises every value at each block and shares the parameters:
    a participant's two blocks score as two participants with the same parameters."""
    model = brl.models.get(name)()
    one = ragged_table(rng, {"outcome": lambda r: float(r.choice([-1.0, 1.0]))}, n_options=2, n_participants=1)
    one = one.sort_values("trial")
    params = _params(model, rng, 1)
    ll_blocks = engine.log_likelihood(model, params, prepare(one, model).trials(model))
    split = one.assign(subjID=one["subjID"] + "_b" + one["block"].astype(str)).drop(columns="block")
    data_split = prepare(split, model, choice_base=1)
    params2 = jax.tree_util.tree_map(lambda a: jnp.repeat(a, 2), params)
    ll_split = engine.log_likelihood(model, params2, data_split.trials(model))
    np.testing.assert_allclose(float(ll_blocks.sum()), float(ll_split.sum()), rtol=1e-12)
    # and the reset matters: without blocks the likelihood differs
    ll_one_block = engine.log_likelihood(model, params, prepare(one, model, columns={"block": None}).trials(model))
    assert abs(float(ll_one_block.sum()) - float(ll_blocks.sum())) > 1e-6


def test_special_cases_agree(rng):
    """alpha = 0 is the '_woa' model; equal rates make '_rp' the single-rate model."""
    table = ragged_table(rng, {"outcome": lambda r: float(r.choice([-1.0, 1.0]))}, n_options=2)
    n = 4
    eta, beta, alpha = rng.uniform(0, 1, n), rng.uniform(0, 10, n), rng.normal(0, 1, n)
    zero = np.zeros(n)

    def ll(name, **p):
        model = brl.models.get(name)()
        data = prepare(table, model)
        return np.asarray(engine.log_likelihood(model, model.make_params(p), data.trials(model)))

    full = ll("prl_fictitious", eta=eta, alpha=zero, beta=beta)
    np.testing.assert_allclose(full, ll("prl_fictitious_woa", eta=eta, beta=beta), rtol=1e-12)
    np.testing.assert_allclose(full, ll("prl_fictitious_rp_woa", eta_pos=eta, eta_neg=eta, beta=beta), rtol=1e-12)
    np.testing.assert_allclose(
        ll("prl_fictitious", eta=eta, alpha=alpha, beta=beta),
        ll("prl_fictitious_rp", eta_pos=eta, eta_neg=eta, alpha=alpha, beta=beta),
        rtol=1e-12,
    )
    assert not np.allclose(full, ll("prl_fictitious", eta=eta, alpha=alpha, beta=beta))


def test_indecision_point_biases_towards_the_second_option():
    lg = brl.models._prl.indecision_logits(jnp.array([0.5, 0.5]), 2.0, 1.0)
    p = np.asarray(jax.nn.softmax(lg))
    np.testing.assert_allclose(p[0], 1.0 / (1.0 + np.exp(2.0 * 1.0)))
    assert p[1] > p[0]


def test_hbayesdm_priors_and_bounds():
    fict = brl.models.prl_fictitious()
    assert fict.param_names == ("eta", "alpha", "beta")
    assert fict.params["alpha"].link == "identity"
    assert fict.params["alpha"].prior.sigma_family == "halfcauchy" and fict.params["alpha"].prior.sigma_scale == 1.0
    assert brl.models.prl_fictitious_rp().param_names == ("eta_pos", "eta_neg", "alpha", "beta")
    assert brl.models.prl_rp().param_names == ("Apun", "Arew", "beta")
    assert brl.models.prl_ewa().param_names == ("phi", "rho", "beta")
    for name in PRL_NAMES:
        model = brl.models.get(name)()
        assert (model.params["beta"].lower, model.params["beta"].upper) == (0.0, 10.0)
        for pname, spec in model.params.items():
            if pname != "alpha":
                assert spec.link == "phi_approx" and spec.prior == brl.Prior(), (name, pname)
    assert brl.models.prl_rp(beta_max=5.0).params["beta"].upper == 5.0


def test_prl_rp_rate_follows_the_outcome_sign_and_ewa_weights():
    """Hand-computed updates: prl_rp picks the rate by outcome > 0 (0 is a punishment);
    prl_ewa's first outcome of an option becomes its value."""
    rp = brl.models.prl_rp()
    df = pd.DataFrame({"subjID": 1, "choice": [1, 1, 1, 1], "outcome": [1.0, 0.0, -1.0, 0.0]})
    p = rp.make_params({"Apun": jnp.array([0.25]), "Arew": jnp.array([0.5]), "beta": jnp.array([2.0])})
    lg = np.asarray(engine.logits(rp, p, prepare(df, rp, choice_base=1).trials(rp)))[0]
    v = [0.0]
    for o in (1.0, 0.0, -1.0):
        v.append(v[-1] + (0.5 if o > 0 else 0.25) * (o - v[-1]))
    np.testing.assert_allclose(lg[:, 0], 2.0 * np.array(v))
    np.testing.assert_allclose(lg[:, 1], 0.0)

    ewa = brl.models.prl_ewa()
    p = ewa.make_params({"phi": jnp.array([0.5]), "rho": jnp.array([0.8]), "beta": jnp.array([1.0])})
    lg = np.asarray(engine.logits(ewa, p, prepare(df, ewa, choice_base=1).trials(ewa)))[0]
    # V1 = 1 (n = 1); V2 = (0.5 * 1 * 1 + 0) / 1.8; V3 = (0.5 * 1.8 * V2 - 1) / (0.8 * 1.8 + 1)
    v2 = 0.5 / 1.8
    np.testing.assert_allclose(lg[1:, 0], [1.0, v2, (0.5 * 1.8 * v2 - 1.0) / 2.44])


@pytest.mark.parametrize(("reward", "punishment", "n_blocks"), [(1.0, -1.0, 1), (25.0, -25.0, 3)])
def test_probabilistic_reversal_task(reward, punishment, n_blocks):
    task = brl.tasks.probabilistic_reversal(
        200, p_correct=0.8, reversal_every=50, n_blocks=n_blocks, reward=reward, punishment=punishment
    )
    assert task.n_trials == 200 * n_blocks and task.n_options == 2
    np.testing.assert_array_equal(np.flatnonzero(task.block_start), np.arange(n_blocks) * 200)
    np.testing.assert_array_equal(np.unique(task.inputs["block"]), np.arange(1, n_blocks + 1))
    keys = jax.random.split(jax.random.PRNGKey(0), 4000)
    for t, good in ((0, 0), (60, 1), (120, 0), (199, 1)):
        for choice in (0, 1):
            out = np.asarray(jax.vmap(lambda k, t=t, c=choice: task.respond(k, t, c)["outcome"])(keys))
            assert set(np.unique(out)) == {reward, punishment}
            p_win = (out == reward).mean()
            assert abs(p_win - (0.8 if choice == good else 0.2)) < 0.03, (t, choice, p_win)


def test_simulated_multiple_block_data_refits_with_a_block_column():
    """Simulate with blocks, write the block column, and score: the engine resets where the task did."""
    model = brl.models.prl_fictitious()
    task = brl.tasks.probabilistic_reversal(40, n_blocks=3, reward=25.0, punishment=-25.0)
    params = model.make_params({"eta": jnp.full(3, 0.3), "alpha": jnp.zeros(3), "beta": jnp.full(3, 0.05)})
    trials, sim_logits = simulate_batch(model, params, task, jax.random.PRNGKey(1))
    assert set(np.unique(np.asarray(trials.outcome))) == {25.0, -25.0}
    df = pd.DataFrame(
        {
            "subjID": np.repeat(np.arange(3), task.n_trials),
            "block": np.tile(task.inputs["block"], 3),
            "trial": np.tile(np.arange(task.n_trials) + 1, 3),
            "choice": np.asarray(trials.choice).ravel() + 1,
            "outcome": np.asarray(trials.outcome).ravel(),
        }
    )
    data = prepare(df, model)
    np.testing.assert_array_equal(data.arrays["block_start"][0], task.block_start & (np.arange(task.n_trials) > 0))
    scored = np.asarray(engine.logits(model, params, data.trials(model)))
    np.testing.assert_allclose(scored, np.asarray(sim_logits), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(scored[:, task.block_start], 0.0)  # values back to 0 at each block start
