"""Structural zeros as attribute ids: which candidate combinations can never occur.

A schema's structural zeros (``Schema.structural_zeros``) are public knowledge, so
leaving their combinations out of the candidates, and out of synthetic records, costs
no privacy. A zero naming a value the attribute index does not hold is dropped: no
combination can hold it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from dpshowcase.data.attributes import AttributeIndex, split_combination


def structural_zero_ids(attributes: AttributeIndex, zeros: Iterable[str]) -> list[np.ndarray]:
    """Each structural zero whose attributes are all in ``attributes``, as sorted ids."""
    out = []
    for zero in zeros:
        ids = [attributes.find(column, value) for column, value in split_combination(zero)]
        if all(i is not None for i in ids):
            out.append(np.array(sorted(ids), dtype=np.int64))  # type: ignore[type-var]
    return out


def holds_structural_zero(combinations: np.ndarray, zeros: list[np.ndarray]) -> np.ndarray:
    """Per row of ``combinations`` (attribute ids, −1 padded): whether it holds every
    attribute of some structural zero."""
    out = np.zeros(combinations.shape[0], dtype=bool)
    for zero in zeros:
        holds = np.ones(combinations.shape[0], dtype=bool)
        for attribute in zero.tolist():
            holds &= (combinations == attribute).any(axis=1)
        out |= holds
    return out
