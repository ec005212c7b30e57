"""Participants sharded over devices (``brl.fit(..., shard_participants=...)``), on CPU host devices.

``import bayesrl`` asks XLA for at least 4 CPU devices, so these tests split 8 participants
over 4 devices: one sharded and one unsharded fit (same data, seed and vectorized chains), and
the compiled log density of a design with a formula and a condition, sharded and not.
"""

import functools
import re
import warnings

import jax
import numpy as np
import pytest
from jax.sharding import NamedSharding, PartitionSpec
from numpyro.infer.util import initialize_model

import bayesrl as brl
from bayesrl import api
from bayesrl.data import prepare
from bayesrl.design import build_design, participant_arrays
from bayesrl.hierarchy import resolve_priors
from bayesrl.inference import _model_of_data, place_participants, shard_count

MODEL = brl.models.rescorla_wagner()
#: A formula and a condition, so that the design's participant-axis arrays (the design matrix,
#: each trial's condition) are sharded along with the trials.
DESIGN = dict(formula={"alpha": "1 + group"}, conditions={"beta": "condition"})
TINY = dict(num_warmup=20, num_samples=20, num_chains=2, seed=3, progress_bar=False, check=False)
#: Sharding changes only the order of floating-point sums (each device adds up its own
#: participants' log-likelihoods, then the devices' totals are added): the log density agrees
#: to rounding. NUTS trajectories amplify rounding differences as warm-up goes on (with this
#: design, 30 + 30 iterations drifted to 2% in one draw), so the fits compared are short and
#: plain. In float64 (the fast tier's precision, tests/conftest.py) the draws of 20 + 20
#: iterations differed by < 1e-7 relative when measured.
RTOL = 1e-6 if jax.config.jax_enable_x64 else 1e-3

needs_4_devices = pytest.mark.skipif(len(jax.devices()) < 4, reason="needs 4 JAX devices (import bayesrl first)")


@functools.cache
def _table():
    """Eight participants x 24 trials of the shipped example, two groups, two conditions."""
    df = brl.datasets.load("bandit2arm")
    df = df[(df["participant"] <= 8) & (df["trial"] <= 24)].drop(columns=["true_alpha", "true_beta"]).copy()
    df["group"] = np.where(df["participant"] % 2 == 0, "patient", "control")
    df["condition"] = np.where(df["trial"] <= 12, "reward", "punish")
    return df


@functools.cache
def _fit(shard):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return brl.fit(MODEL, _table(), chain_method="vectorized", shard_participants=shard, **TINY)


@needs_4_devices
def test_sharded_fit_equals_unsharded_fit():
    sharded, plain = _fit(True), _fit(False)
    assert sharded.metadata["sampler"]["participant_shards"] == 4
    assert plain.metadata["sampler"]["participant_shards"] == 1
    assert sharded.metadata["sampler"]["chain_method"] == "vectorized"
    post, ref = sharded.posterior, plain.posterior
    assert set(post.data_vars) == set(ref.data_vars)
    for name in ref.data_vars:
        np.testing.assert_allclose(post[name].values, ref[name].values, rtol=RTOL, atol=RTOL * 1e-2, err_msg=name)
    for name in ("diverging", "n_steps"):
        np.testing.assert_array_equal(sharded.idata.sample_stats[name], plain.idata.sample_stats[name])


@needs_4_devices
def test_compiled_log_density_is_partitioned_over_participants():
    """With a design, the data reach the compiled log density (what NUTS differentiates) as
    sharded arguments, XLA adds up the shards' sums, and value and gradient equal the unsharded ones."""
    df = _table()
    dataset = prepare(df, MODEL)
    design, dataset = build_design(MODEL, df, dataset, **DESIGN)
    data = (dataset.trials(MODEL), participant_arrays(design))
    numpyro_model = functools.partial(
        _model_of_data, model=MODEL, priors=resolve_priors(MODEL, None), centered=frozenset(), design=design
    )
    with jax.numpy_rank_promotion("allow"):
        info, potential_gen, _, _ = initialize_model(
            jax.random.PRNGKey(0), numpyro_model, model_args=data, dynamic_args=True
        )
        score = jax.jit(lambda z, data: jax.value_and_grad(potential_gen(*data))(z))
        sharded = place_participants(data, 4)
        compiled = score.lower(info.z, sharded).compile()
        value, grad = score(info.z, sharded)
        ref_value, ref_grad = score(info.z, data)
    data_shardings = jax.tree_util.tree_leaves(compiled.input_shardings[0][1])
    assert len(data_shardings) == len(jax.tree_util.tree_leaves(data)) > len(data[0])  # trials and design
    assert all(isinstance(s, NamedSharding) and s.spec == PartitionSpec("participant") for s in data_shardings)
    hlo = compiled.as_text()
    assert re.search(r"num_partitions=4", hlo) and "all-reduce" in hlo
    np.testing.assert_allclose(value, ref_value, rtol=RTOL)
    for name, g in grad.items():
        np.testing.assert_allclose(g, ref_grad[name], rtol=RTOL, atol=RTOL * 1e-2, err_msg=name)


def test_shard_count_splits_evenly():
    assert [shard_count(n, 4) for n in (8, 6, 7, 2, 1, 12)] == [4, 3, 1, 2, 1, 4]


def test_uneven_participant_count_warns():
    with pytest.warns(UserWarning, match=r"6 participants cannot be split evenly over 4 devices.*3 shard\(s\) of 2"):
        assert api._participant_shards(4, 6) == 3
    with pytest.warns(UserWarning, match=r"no sharding"):
        assert api._participant_shards(4, 7) == 1


@pytest.mark.parametrize("bad", [-1, 0, 99, 2.0, "yes", None])
def test_bad_shard_participants(bad):
    with pytest.raises(ValueError, match=r"shard_participants must be True, False or a number of devices"):
        brl.fit(MODEL, _table(), shard_participants=bad, **TINY)


@needs_4_devices
def test_sharding_refuses_parallel_chains_and_other_methods():
    with pytest.raises(ValueError, match=r"chain_method='parallel'.*shard_participants="):
        brl.fit(MODEL, _table(), shard_participants=True, chain_method="parallel", **TINY)
    with pytest.raises(ValueError, match=r"applies to method='nuts' only"):
        brl.fit(MODEL, _table(), method="svi", shard_participants=2, **TINY)
