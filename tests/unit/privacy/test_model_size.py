"""The fast junction-tree size agrees with private-pgm's ``hypothetical_model_size``."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("mbi")

from dpshowcase.privacy import graphical
from dpshowcase.privacy.model_size import model_sizes_mb


def _reference(sizes: list[int], cliques: list[tuple[int, ...]]) -> float:
    from mbi.junction_tree import hypothetical_model_size

    domain = graphical._domain(sizes)
    return float(hypothetical_model_size(domain, [graphical._names(c) for c in cliques]))


def test_sizes_match_private_pgm_on_random_models() -> None:
    # Both compute the same greedy elimination and the same maximal cliques: the sizes are
    # sums of products of integers, so they must agree to rounding.
    rng = random.Random(7)
    for _ in range(25):
        d = rng.randint(3, 10)
        sizes = [rng.randint(2, 9) for _ in range(d)]
        cliques = [(c,) for c in range(d)] + [
            tuple(sorted(rng.sample(range(d), rng.randint(2, 3)))) for _ in range(rng.randint(0, d))
        ]
        candidates = [tuple(sorted(rng.sample(range(d), rng.randint(1, 3)))) for _ in range(4)]
        ours = model_sizes_mb(sizes, cliques, [*candidates, ()])
        for candidate, size in zip([*candidates, ()], ours, strict=True):
            extra = [candidate] if candidate else []
            assert size == pytest.approx(_reference(sizes, cliques + extra), rel=1e-12)


def test_a_tree_keeps_its_edges_as_cliques() -> None:
    # chain 0-1-2 with sizes 2, 100, 2: cliques {0,1} and {1,2}, 400 cells
    (size,) = model_sizes_mb([2, 100, 2], [(0, 1), (1, 2)], [()])
    assert size == pytest.approx(400 * 8 / 2**20)


def test_within_size_keeps_free_and_small_candidates() -> None:
    sizes = [3, 3, 3, 50]
    current = [(0,), (1,), (2,), (3,), (0, 1)]
    candidates = [(0, 1), (1, 2), (2, 3)]
    # limit between the model with (1, 2) and the one with (2, 3) (150 more cells)
    limit = (9 + 9 + 50) * 8 / 2**20 + 1e-9
    assert graphical.within_size(sizes, current, candidates, limit) == [(0, 1), (1, 2)]


def test_more_columns_than_the_bitmask_holds_are_refused_with_a_sentence():
    from dpshowcase.errors import ParameterError
    from dpshowcase.privacy.model_size import MAX_COLUMNS, model_sizes_mb

    with pytest.raises(ParameterError, match=r"at most 62 columns and this schema has 63"):
        model_sizes_mb([2] * (MAX_COLUMNS + 1), [], [[0, 1]])
