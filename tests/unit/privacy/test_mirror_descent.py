"""AIM's per-round mirror descent (numba) against private-pgm's own ``MirrorDescent``.

Both run the same deterministic algorithm on the same junction tree, so after 50 or 100
steps (private-pgm runs steps in blocks of 50) the measured marginals must agree to
rounding (1e-8 counts on totals of 500: a few hundred float64 operations per cell).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dpshowcase.privacy import mirror_descent
from dpshowcase.privacy.graphical import Measurement

SIZES = (3, 4, 2, 3, 2, 3)
CLIQUES = [(0,), (1,), (2,), (3,), (4,), (5,), (0, 1), (1, 2, 3), (3, 4), (4, 5), (0, 5)]
TOTAL = 500.0


def _measurements(seed: int = 3) -> list[Measurement]:
    rng = np.random.default_rng(seed)
    return [
        Measurement(
            clique=cl,
            noisy=rng.poisson(30, int(np.prod([SIZES[a] for a in cl]))).astype(np.float64),
            sigma=float(rng.uniform(1.0, 5.0)),
        )
        for cl in CLIQUES
    ]


def _tree_of(model):
    from mbi import junction_tree

    jtree, _ = junction_tree.make_junction_tree(model.domain, [tuple(c) for c in model.cliques])

    def cols(clique):
        return tuple(int(a[1:]) for a in clique)

    return [cols(n) for n in jtree.nodes], [(cols(a), cols(b)) for a, b in jtree.edges]


def _triples(ms):
    return [(m.clique, m.noisy, m.sigma) for m in ms]


def _private_pgm(ms, iters, warm_start=None):
    """private-pgm's own estimation (JAX), the reference."""
    from mbi import LinearMeasurement
    from mbi.estimation import MirrorDescent

    from dpshowcase.privacy import graphical

    linear = [
        LinearMeasurement(m.noisy, tuple(f"c{c}" for c in m.clique), m.sigma) for m in ms
    ]
    return MirrorDescent().estimate(
        graphical._domain(SIZES), linear, known_total=TOTAL, iters=iters, warm_start=warm_start
    )


@pytest.mark.parametrize("iters", [50])
def test_the_same_steps_as_private_pgm(iters):
    pytest.importorskip("mbi")
    from dpshowcase.privacy import graphical

    ms = _measurements()
    reference = _private_pgm(ms, iters)
    ours = mirror_descent.fit(SIZES, *_tree_of(reference), _triples(ms), TOTAL, iters=iters)
    theirs = graphical.calibrated(reference)
    for m in ms:
        np.testing.assert_allclose(
            ours.tree.marginal(m.clique), theirs.marginal(m.clique), rtol=0, atol=1e-8
        )
    # and any marginal across the tree
    for clique in itertools.combinations(range(len(SIZES)), 3):
        np.testing.assert_allclose(
            ours.tree.marginal(clique), theirs.marginal(clique), rtol=0, atol=1e-8
        )


def test_a_warm_start_continues_like_private_pgms():
    pytest.importorskip("mbi")
    from dpshowcase.privacy import graphical

    ms = _measurements(4)
    first = _private_pgm(ms[:7], 50)
    second = _private_pgm(ms, 50, warm_start=first)
    ours_first = mirror_descent.fit(SIZES, *_tree_of(first), _triples(ms[:7]), TOTAL, iters=50)
    ours = mirror_descent.fit(
        SIZES, *_tree_of(second), _triples(ms), TOTAL, iters=50, warm_start=ours_first
    )
    theirs = graphical.calibrated(second)
    for m in ms:
        np.testing.assert_allclose(
            ours.tree.marginal(m.clique), theirs.marginal(m.clique), rtol=0, atol=1e-8
        )


def test_zero_steps_from_a_warm_start_keep_the_model():
    """The potentials live in measurement space: a new tree reproduces the same model."""
    ms = _measurements(5)
    chain_nodes = [(0, 1), (1, 2, 3), (3, 4), (4, 5), (0, 5)]
    # a junction tree of the cycle 0-1-3-4-5-0 (with 2 on (1, 3)): triangulated by hand
    nodes = [(0, 1, 3), (1, 2, 3), (0, 3, 4), (0, 4, 5)]
    edges = [((0, 1, 3), (1, 2, 3)), ((0, 1, 3), (0, 3, 4)), ((0, 3, 4), (0, 4, 5))]
    fitted = mirror_descent.fit(SIZES, nodes, edges, _triples(ms), TOTAL, iters=30)
    # a coarser tree holding the same cliques: one node for everything but column 2
    bigger = [(0, 1, 3, 4, 5), (1, 2, 3)]
    again = mirror_descent.fit(
        SIZES, bigger, [((0, 1, 3, 4, 5), (1, 2, 3))], _triples(ms), TOTAL, iters=0,
        warm_start=fitted,
    )  # fmt: skip
    for clique in [*chain_nodes, (2, 5), (0, 2, 4)]:
        np.testing.assert_allclose(
            again.tree.marginal(clique), fitted.tree.marginal(clique), rtol=1e-10, atol=1e-10
        )
    assert again.loss == pytest.approx(fitted.loss, rel=1e-10)


def test_consistent_exact_measurements_are_recovered():
    """Noise-free marginals of a chain distribution: the fit reaches them (loss → 0)."""
    rng = np.random.default_rng(8)
    sizes = (3, 4, 2)
    joint = rng.dirichlet(np.ones(24)).reshape(sizes) * 1000.0
    ms = [
        ((0, 1), joint.sum(axis=2).ravel(), 1.0),
        ((1, 2), joint.sum(axis=0).ravel(), 1.0),
    ]
    fitted = mirror_descent.fit(
        sizes, [(0, 1), (1, 2)], [((0, 1), (1, 2))], ms, 1000.0, iters=2000
    )
    # the loss falls from ~10⁴ at the uniform start to rounding level
    assert fitted.loss < 1e-6
    np.testing.assert_allclose(fitted.tree.marginal((0, 1)), ms[0][1], atol=1e-3)
    np.testing.assert_allclose(fitted.tree.marginal((1, 2)), ms[1][1], atol=1e-3)


def test_estimate_hands_private_pgm_the_fitted_model():
    """The final model is private-pgm's MarkovRandomField with our potentials: its own
    inference (JAX) gives the marginals of our calibrated tree, and it samples records."""
    pytest.importorskip("mbi")
    from dpshowcase.privacy import graphical

    ms = _measurements(10)
    model = graphical.estimate(SIZES, ms, TOTAL, iters=200)
    fitted = graphical.fit_round(SIZES, ms, TOTAL, iters=200)
    for clique in [(0, 1), (1, 2, 3), (2, 5), (0, 2, 4), (5,)]:
        theirs = np.asarray(model.project(tuple(f"c{c}" for c in clique)).datavector())
        np.testing.assert_allclose(theirs, fitted.tree.marginal(clique), rtol=0, atol=1e-8)
    records = model.synthetic_data(50, method="round").to_dict()
    assert sorted(records) == [f"c{c}" for c in range(len(SIZES))]
    assert all(len(v) == 50 for v in records.values())


def test_lipschitz_and_maximal_cliques_are_private_pgms():
    pytest.importorskip("mbi")
    from mbi import LinearMeasurement
    from mbi.clique_utils import maximal_subset
    from mbi.marginal_loss import calculate_l2_lipschitz_from_metadata

    from dpshowcase.privacy import graphical

    ms = _measurements(6)
    linear = [
        LinearMeasurement(m.noisy, tuple(f"c{c}" for c in m.clique), m.sigma) for m in ms
    ]
    theirs = calculate_l2_lipschitz_from_metadata(graphical._domain(SIZES), linear)
    ours = mirror_descent.lipschitz(SIZES, [m.clique for m in ms], [m.sigma for m in ms])
    assert ours == pytest.approx(theirs, rel=1e-12)
    expected = {tuple(int(a[1:]) for a in cl) for cl in maximal_subset([x.clique for x in linear])}
    assert set(mirror_descent.maximal_cliques([m.clique for m in ms])) == expected


def test_early_stop_ends_at_the_first_two_stalled_blocks():
    """Without ``tol`` every step runs; with it the fit stops at the first point where two
    blocks of 50 steps in a row each gained ≤ tol × the loss. The steps are deterministic,
    so the early run is exactly the full run's prefix: its losses every 50 steps show
    where it had to stop."""
    ms = _measurements(9)
    nodes = [(0, 1, 3), (1, 2, 3), (0, 3, 4), (0, 4, 5)]
    edges = [((0, 1, 3), (1, 2, 3)), ((0, 1, 3), (0, 3, 4)), ((0, 3, 4), (0, 4, 5))]
    tol, block = 1e-3, mirror_descent.BLOCK

    def run(iters, tol=None):
        return mirror_descent.fit(SIZES, nodes, edges, _triples(ms), TOTAL, iters=iters, tol=tol)

    assert run(600).steps == 600
    early = run(2000, tol)
    assert early.steps % block == 0
    assert 2 * block <= early.steps < 2000
    losses = [run(0).loss] + [run(k).loss for k in range(block, early.steps + 1, block)]
    assert early.loss == losses[-1]
    stalled = [
        prev - loss <= tol * max(abs(loss), 1.0) for prev, loss in itertools.pairwise(losses)
    ]
    assert stalled[-2:] == [True, True]
    assert not any(a and b for a, b in itertools.pairwise(stalled[:-1]))
    assert all(b <= a for a, b in itertools.pairwise(losses))  # Armijo: never worse


def test_ties_between_maximal_cliques_are_broken_as_private_pgm_does():
    """(0, 1) lies in two maximal cliques of equal size: private-pgm routes it to the
    first in its order (longest first, then as measured), which decides the Lipschitz
    constant and so the first step size."""
    pytest.importorskip("mbi")
    from mbi import LinearMeasurement
    from mbi.marginal_loss import calculate_l2_lipschitz_from_metadata

    from dpshowcase.privacy import graphical

    sizes = (2, 2, 2, 2)
    cliques = [(0, 1, 3), (0, 1, 2), (0, 1)]
    sigmas = [1.0, 3.0, 0.5]
    linear = [
        LinearMeasurement(np.zeros(2 ** len(cl)), tuple(f"c{c}" for c in cl), s)
        for cl, s in zip(cliques, sigmas, strict=True)
    ]
    theirs = calculate_l2_lipschitz_from_metadata(graphical._domain(sizes), linear)
    assert mirror_descent.lipschitz(sizes, cliques, sigmas) == pytest.approx(theirs, rel=1e-12)
    # routed to (0, 1, 3): 1/1² + 2/0.5² = 9 (to (0, 1, 2) it would be 1/3² + 8)
    assert theirs == pytest.approx(9.0)
    assert mirror_descent.maximal_cliques(cliques) == [(0, 1, 3), (0, 1, 2)]
