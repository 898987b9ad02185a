"""Bin edges chosen from the data with differential privacy.

A numeric column binned at quantiles, or at edges that ``schema infer`` proposed from
the data, would publish values of the sensitive data in every label. A DP release
either refuses such a column (the default; see
:func:`~dpshowcase.release.pipeline.check_public_edges`) or, when asked
(``edges_epsilon_proportion``, ``--dp-edges``), chooses its edges here: each inner edge
is a DP quantile (OpenDP's ``make_private_quantile`` through :mod:`.noise`) among
public round numbers (:data:`EDGE_CANDIDATES`), at the budget the accounting module
gives it (:func:`~dpshowcase.privacy.accounting.edge_quantile_epsilon`). The bins are
open at both ends (``< 20``, ``≥ 80``), so no data extreme is ever an edge.

This reads sensitive values (it is part of the protection step); its output, the
schema with the chosen edges, is public.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from dpshowcase.errors import ParameterError, SchemaError
from dpshowcase.privacy.accounting import DpParameters, edge_quantile_epsilon
from dpshowcase.privacy.noise import NoiseSource
from dpshowcase.schema.model import ColumnSpec, Schema

__all__ = ["EDGE_CANDIDATES", "bin_count", "private_edges"]

_MANTISSAS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)
EDGE_CANDIDATES: tuple[float, ...] = tuple(
    sorted(
        {0.0}
        | {
            sign * round(m * 10.0**p, 6)
            for m in _MANTISSAS
            for p in range(-3, 10)
            for sign in (-1.0, 1.0)
        }
    )
)
"""The public numbers an edge may be: 0 and ±m·10^p, m in 1, 1.2, 1.5, 2, 2.5, 3, 4..9,
p in −3..9 (313 numbers, fixed in advance: they do not depend on any data)."""


def bin_count(spec: ColumnSpec) -> int:
    """How many bins a data-derived column asks for (quantiles, or its inferred edges)."""
    if spec.quantiles is not None:
        return spec.quantiles
    edges = len(spec.bins or ())
    return edges + 1 if spec.open_ended else max(edges - 1, 2)


def private_edges(
    frame: pl.DataFrame, schema: Schema, params: DpParameters, noise: NoiseSource
) -> tuple[Schema, dict[str, Any]]:
    """``schema`` with DP edges for every column whose edges would come from the data.

    Returns the new schema and, for parameters.json, the columns, the quantile levels
    and the edges chosen. Each record's value counts once per quantile, so the privacy
    unit must be one row: with a subject id, a subject's rows would count several times.
    """
    derived = schema.data_derived_edges
    if not derived:
        raise ParameterError(
            "A share of epsilon for bin edges was given (--dp-edges), but no column of the "
            "schema has edges from the data; leave it out."
        )
    if schema.subject_id:
        raise ParameterError(
            "Bin edges chosen with DP count one value per row, but the schema merges the "
            "rows of each subject; give edges chosen without the data (edges = \"public\")."
        )
    levels = {name: _levels(bin_count(schema.column(name))) for name in derived}
    epsilon = edge_quantile_epsilon(params, sum(len(v) for v in levels.values()))
    chosen: dict[str, list[float]] = {}
    columns = []
    for spec in schema.columns:
        if spec.name not in levels:
            columns.append(spec)
            continue
        values = _numbers(frame, spec, schema.null_values)
        edges = sorted(
            {noise.select_quantile(values, a, epsilon, EDGE_CANDIDATES) for a in levels[spec.name]}
        )
        chosen[spec.name] = edges
        columns.append(
            replace(spec, bins=tuple(edges), quantiles=None, open_ended=True, edges="dp")
        )
    report = {
        "method": "DP quantiles (OpenDP make_private_quantile) among public round numbers",
        "epsilon": params.edges_epsilon,
        "epsilon_per_quantile": epsilon,
        "columns": {
            name: {"quantile_levels": levels[name], "edges": chosen[name]} for name in derived
        },
    }
    return replace(schema, columns=tuple(columns)), report


def _levels(bins: int) -> list[float]:
    return [i / bins for i in range(1, bins)]


def _numbers(frame: pl.DataFrame, spec: ColumnSpec, nulls: tuple[str, ...]) -> np.ndarray:
    """The column's numbers (missing cells dropped); a cell that is no number is refused."""
    if spec.name not in frame.columns:
        raise SchemaError(f"The data has no column {spec.name!r} named in the schema.")
    text = frame.get_column(spec.name).cast(pl.String).str.strip_chars()
    text = text.filter(text.is_not_null() & ~text.is_in(list(nulls)))
    numbers = text.cast(pl.Float64, strict=False)
    if numbers.null_count():
        example = text.filter(numbers.is_null())[0]
        raise SchemaError(
            f"Column {spec.name!r} is numeric but holds the value {example!r}; make it "
            "categorical in the schema or add the value to null_values."
        )
    values = numbers.to_numpy().astype(np.float64)
    return values[np.isfinite(values)] if values.size else values

