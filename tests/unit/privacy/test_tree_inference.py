"""Exact junction-tree marginals in numpy against brute force and against private-pgm.

Small domains (≤ 7 columns of 2–4 values) let the full joint distribution be enumerated:
every marginal of the calibrated tree must equal the joint's sum to float precision
(relative 1e-9: the computation is exact up to rounding of a few hundred products).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dpshowcase.privacy.tree_inference import calibrate


def _brute_force(sizes, potentials, total):
    """The full joint (counts) from log-potentials over sorted cliques."""
    joint = np.zeros(tuple(sizes))
    for clique, table in potentials.items():
        shape = [1] * len(sizes)
        for a, n in zip(clique, table.shape, strict=True):
            shape[a] = n
        joint = joint + table.reshape(shape)
    joint = np.exp(joint - joint.max())
    return joint / joint.sum() * total


def _marginal(joint, clique):
    axes = tuple(a for a in range(joint.ndim) if a not in clique)
    table = joint.sum(axis=axes)
    kept = sorted(clique)
    return np.transpose(table, [kept.index(c) for c in clique]).ravel()


# a junction tree of 7 columns: (0,1,2) — (1,2,3) — (3,4) ; (2,5) hangs on (0,1,2); (4,6) on (3,4)
NODES = [(0, 1, 2), (1, 2, 3), (3, 4), (2, 5), (4, 6)]
EDGES = [((0, 1, 2), (1, 2, 3)), ((1, 2, 3), (3, 4)), ((0, 1, 2), (2, 5)), ((3, 4), (4, 6))]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_marginal_up_to_three_columns_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    sizes = tuple(int(s) for s in rng.integers(2, 5, 7))
    # potentials on sub-cliques of the nodes, large enough to make the joint far from uniform
    cliques = [(0, 1), (1, 2, 3), (2, 3), (3, 4), (2, 5), (4, 6), (0,), (6,)]
    potentials = {
        cl: rng.normal(0, 2.0, tuple(sizes[a] for a in cl)) for cl in cliques
    }
    total = 1234.5
    tree = calibrate(sizes, NODES, EDGES, potentials, total)
    joint = _brute_force(sizes, potentials, total)
    for k in (1, 2, 3):
        for clique in itertools.combinations(range(7), k):
            for ordered in {clique, clique[::-1]}:
                np.testing.assert_allclose(
                    tree.marginal(ordered), _marginal(joint, ordered), rtol=1e-9, atol=1e-9
                )
    # the four-column marginal spanning the whole tree too
    np.testing.assert_allclose(
        tree.marginal((6, 0, 5, 3)), _marginal(joint, (6, 0, 5, 3)), rtol=1e-9, atol=1e-9
    )


def test_potential_columns_in_any_order_and_a_disconnected_model():
    """mbi's factors may list columns in any order; a forest is joined by empty separators."""
    rng = np.random.default_rng(5)
    sizes = (3, 2, 4)
    table = rng.normal(0, 1.0, (4, 3))  # over columns (2, 0)
    single = rng.normal(0, 1.0, (2,))
    nodes = [(0, 2), (1,)]
    edges = [((0, 2), (1,))]  # an empty separator: independent parts
    tree = calibrate(sizes, nodes, edges, {(2, 0): table, (1,): single}, 10.0)
    joint = _brute_force(sizes, {(0, 2): table.T, (1,): single}, 10.0)
    for clique in [(0,), (1,), (2,), (2, 0), (1, 2), (0, 1, 2), (2, 1, 0)]:
        np.testing.assert_allclose(tree.marginal(clique), _marginal(joint, clique), rtol=1e-9)


def test_extreme_potentials_stay_finite():
    """Log-space propagation: potentials of ±700 would overflow exp() in linear space."""
    sizes = (2, 2, 2)
    potentials = {(0, 1): np.array([[700.0, -700.0], [0.0, 0.0]]), (1, 2): np.zeros((2, 2))}
    tree = calibrate(sizes, [(0, 1), (1, 2)], [((0, 1), (1, 2))], potentials, 1.0)
    out = tree.marginal((0, 2))
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, [0.5, 0.5, 0.0, 0.0], atol=1e-12)


def test_against_private_pgm_project():
    """A model private-pgm estimated (JAX): our exact marginals equal its own inference."""
    pytest.importorskip("mbi")
    from mbi import LinearMeasurement
    from mbi.estimation import MirrorDescent

    from dpshowcase.privacy import graphical

    rng = np.random.default_rng(3)
    sizes = (3, 4, 2, 3, 2, 3)
    cliques = [(0, 1), (1, 2, 3), (3, 4), (4, 5), (0, 5), (2,)]
    linear = [
        LinearMeasurement(
            rng.poisson(30, int(np.prod([sizes[a] for a in cl]))).astype(np.float64),
            tuple(f"c{c}" for c in cl),
            3.0,
        )
        for cl in cliques
    ]
    model = MirrorDescent().estimate(
        graphical._domain(sizes), linear, known_total=500.0, iters=100
    )
    tree = graphical.calibrated(model)
    for clique in [(0, 1), (2, 0), (0, 2, 4), (5, 1, 3), (1, 4), (3,), (0, 3, 5)]:
        names = tuple(f"c{c}" for c in clique)
        theirs = np.asarray(model.project(names).datavector(), dtype=np.float64)
        counts = tree.marginal(clique)
        np.testing.assert_allclose(counts, theirs, rtol=1e-6, atol=1e-6)
        assert counts.sum() == pytest.approx(500.0)


def test_more_columns_than_einsum_has_letters():
    """A chain of 60 binary columns: only (0, 1) is coupled, the rest independent and
    uniform, so the marginal of (1, 59) is the marginal of column 1 times ½ — across the
    whole chain (numpy's einsum has 52 letters; each contraction names its own)."""
    sizes = (2,) * 60
    nodes = [(i, i + 1) for i in range(59)]
    edges = [((i, i + 1), (i + 1, i + 2)) for i in range(58)]
    potentials = {(0, 1): np.array([[2.0, 0.0], [0.0, 1.0]])}
    potentials |= {(i, i + 1): np.zeros((2, 2)) for i in range(1, 59)}
    tree = calibrate(sizes, nodes, edges, potentials, 100.0)
    column_one = tree.marginal((1,))
    np.testing.assert_allclose(column_one.sum(), 100.0)
    np.testing.assert_allclose(
        tree.marginal((1, 59)), np.outer(column_one, [0.5, 0.5]).ravel(), rtol=1e-12
    )
    np.testing.assert_allclose(tree.marginal((0, 30, 59)).sum(), 100.0, rtol=1e-12)
