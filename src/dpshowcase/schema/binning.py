"""Turning numbers into readable ranges such as ``39--47``.

Bins are half-open ``[edge_i, edge_i+1)`` except the last, which is closed so that
the top edge belongs to the data. When every value is a whole number the labels name
the whole numbers a bin holds (edges 39, 48 give ``39--47``); otherwise they name the
edges (``0.5--1.25``).

Open-ended bins (``open_ended = true`` in the schema) add a bin below the first edge and
make the last one unbounded: edges 20, 40 give ``< 20``, ``20--39`` and ``≥ 40``, so no
value of the data, not even its smallest or largest, is refused or published as an edge.
"""

from __future__ import annotations

import itertools

import numpy as np

from dpshowcase.errors import InputError, SchemaError


def quantile_edges(values: np.ndarray, quantiles: int, column: str) -> tuple[float, ...]:
    """Edges that split ``values`` into about equal-sized bins (duplicates merged)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise InputError(f"Numeric column {column!r} has no numbers to bin.")
    edges = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, quantiles + 1)))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0] + 1.0])
    if _all_whole(finite):
        edges = np.unique(np.round(edges))
        if edges.size == 1:
            edges = np.array([edges[0], edges[0] + 1.0])
    return tuple(float(e) for e in edges)


def bin_labels(
    edges: tuple[float, ...], whole_numbers: bool, *, open_ended: bool = False
) -> tuple[str, ...]:
    """One readable label per bin (open-ended: ``< first``, the inner bins, ``≥ last``)."""
    if open_ended:
        inner = [
            _inner_label(low, high, whole_numbers) for low, high in itertools.pairwise(edges)
        ]
        return (f"< {_fmt(edges[0])}", *inner, f"≥ {_fmt(edges[-1])}")
    labels = []
    last = len(edges) - 2
    for i, (low, high) in enumerate(itertools.pairwise(edges)):
        if whole_numbers and float(low).is_integer() and float(high).is_integer():
            top = int(high) if i == last else int(high) - 1
            labels.append(f"{int(low)}--{top}" if top != int(low) else f"{int(low)}")
        else:
            labels.append(f"{_fmt(low)}--{_fmt(high)}")
    return tuple(labels)


def _inner_label(low: float, high: float, whole_numbers: bool) -> str:
    """Label of the half-open bin [low, high)."""
    if whole_numbers and float(low).is_integer() and float(high).is_integer():
        top = int(high) - 1
        return f"{int(low)}--{top}" if top != int(low) else f"{int(low)}"
    return f"{_fmt(low)}--{_fmt(high)}"


def assign_bins(
    values: np.ndarray, edges: tuple[float, ...], column: str, *, open_ended: bool = False
) -> np.ndarray:
    """The 0-based bin of each finite value; NaN (missing) gives -1."""
    edge_array = np.asarray(edges, dtype=np.float64)
    missing = np.isnan(values)
    if open_ended:  # bin 0 is below the first edge, bin len(edges) from the last one on
        codes = np.searchsorted(edge_array, values, side="right")
        codes[missing] = -1
        return codes.astype(np.int64)
    present = values[~missing]
    outside = (present < edge_array[0]) | (present > edge_array[-1])
    if outside.any():
        example = present[outside][0]
        raise SchemaError(
            f"Column {column!r} has the value {_fmt(float(example))} outside its bin edges "
            f"{_fmt(edge_array[0])}..{_fmt(edge_array[-1])}; widen the edges in the schema."
        )
    codes = np.searchsorted(edge_array, values, side="right") - 1
    codes = np.minimum(codes, edge_array.size - 2)
    codes[missing] = -1
    return codes.astype(np.int64)


def is_whole(values: np.ndarray) -> bool:
    """True when every finite value is a whole number."""
    finite = values[np.isfinite(values)]
    return _all_whole(finite)


def _all_whole(finite: np.ndarray) -> bool:
    return bool(finite.size == 0 or np.all(np.floor(finite) == finite))


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
