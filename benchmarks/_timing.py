"""Timing helpers shared by the gradient benchmarks."""

from __future__ import annotations

import time

import numpy as np


def timed(f, reps):
    """Median seconds of one call of ``f`` (batches sized to take about 0.2 s), after a warm-up call."""
    f()
    t0 = time.perf_counter()
    f()
    one = max(time.perf_counter() - t0, 1e-6)
    inner = max(1, int(0.2 / one))
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            f()
        out.append((time.perf_counter() - t0) / inner)
    return float(np.median(out))


def _evaluations(value_and_grad, k):
    """``run(z, args)``: ``k`` evaluations of ``value_and_grad``, each at the point the previous gradient moved.

    A dependency chain, as between leapfrog steps, so nothing is hoisted out of the loop.
    """
    from jax import lax, tree_util

    def run(z, args):
        def body(i, carry):
            total, z = carry
            value, grad = value_and_grad(z, args)
            return total + value, tree_util.tree_map(lambda a, g: a + 1e-6 * g, z, grad)

        return lax.fori_loop(0, k, body, (0.0, z))

    return run


def _per_evaluation(make, reps, target_s):
    """Median seconds per evaluation of ``make(k)() `` (``k`` evaluations), ``k`` sized to take about ``target_s``."""
    probe = make(8)
    probe()
    t0 = time.perf_counter()
    probe()
    per = max((time.perf_counter() - t0) / 8, 1e-7)
    k = int(min(max(target_s / per, 8), 20000))
    return timed(make(k), reps) / k


def in_loop(value_and_grad, z, args, reps, target_s=0.2):
    """Seconds per evaluation of ``value_and_grad(z, args)`` inside one compiled loop.

    NUTS evaluates the gradient inside a compiled ``while`` loop, where no Python dispatch or
    argument transfer happens between evaluations; timing single jitted calls from Python adds
    tens of microseconds per call, which dominates small problems. Here ``k`` evaluations run in a
    ``lax.fori_loop``, each at the point moved by the previous gradient; ``k`` is chosen so one
    call takes about ``target_s``. Returns the median over ``reps`` calls of (call time / k).
    """
    import jax

    def make(k):
        run = jax.jit(_evaluations(value_and_grad, k))
        return lambda: jax.block_until_ready(run(z, args))

    return _per_evaluation(make, reps, target_s)


def in_parallel_chains(value_and_grad, z, args, reps, target_s=0.2):
    """Seconds per step of ``value_and_grad`` run by every local device at once, as a fit's chains run.

    ``brl.fit`` (and the hand-written model in ``bench_peers.py``) runs its 4 chains with
    ``jax.pmap`` on 4 host devices, which on a 2-core machine share the cores. Here each device
    runs the :func:`in_loop` chain of evaluations from the same start, the data passed to every
    device as an argument; returns the median over ``reps`` calls of (call time / evaluations per
    device): the wall time of one leapfrog step of all chains together. On small problems this
    differs from ``in_loop``'s single chain by more than the ratio of chains to cores (XLA's CPU
    runtime schedules one program differently from several at once), and it is the figure a fit
    pays.
    """
    import jax

    n = jax.local_device_count()
    zs = jax.tree_util.tree_map(lambda a: np.broadcast_to(np.asarray(a), (n, *np.shape(a))).copy(), z)

    def make(k):
        run = jax.pmap(_evaluations(value_and_grad, k), in_axes=(0, None))
        return lambda: jax.block_until_ready(run(zs, args))

    return _per_evaluation(make, reps, target_s)
