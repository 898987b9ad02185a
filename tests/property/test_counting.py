"""Counting equals brute force on random small tables (Hypothesis)."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.aggregate.sensitivity import combinations_per_record, sensitivity
from dpshowcase.data.attributes import AttributeIndex, split_combination
from dpshowcase.data.encode import encode
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema

SETTINGS = settings(
    max_examples=80,
    deadline=None,  # the first call may compile the counting kernels
    suppress_health_check=[HealthCheck.too_slow],
)

# small alphabets; "" is absence, "0" is absence outside sensitive-zero columns
CELL = st.sampled_from(["", "0", "a", "b", "c", "d", "9--17", "18--20"])
MULTI_CELL = st.lists(st.sampled_from(["x", "y", "z", "0", ""]), max_size=3).map(";".join)


@st.composite
def tables(draw: st.DrawFn, multi_value: bool) -> tuple[pl.DataFrame, Schema]:
    n_rows = draw(st.integers(1, 60))
    n_cols = draw(st.integers(1, 6))
    columns: dict[str, list[str]] = {}
    specs = []
    for j in range(n_cols):
        name = f"c{j}"
        is_multi = multi_value and draw(st.booleans())
        cells = MULTI_CELL if is_multi else CELL
        columns[name] = draw(st.lists(cells, min_size=n_rows, max_size=n_rows))
        kind = ColumnKind.MULTI_VALUE if is_multi else ColumnKind.CATEGORICAL
        specs.append(ColumnSpec(name=name, kind=kind, sensitive_zero=draw(st.booleans())))
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))
    return frame, Schema(columns=tuple(specs))


def _raw_attributes(frame: pl.DataFrame, schema: Schema) -> list[set[tuple[str, str]]]:
    """Each row's (column, value) pairs, by the rules of the schema, from the raw cells."""
    records: list[set[tuple[str, str]]] = [set() for _ in range(frame.height)]
    for spec in schema.columns:
        for i, cell in enumerate(frame[spec.name].to_list()):
            values = cell.split(spec.delimiter) if spec.kind is ColumnKind.MULTI_VALUE else [cell]
            for value in values:
                if value == "" or (value == "0" and not spec.sensitive_zero):
                    continue
                records[i].add((spec.name, value))
    return records


def _brute_force_ids(records: list[list[int]], length: int) -> dict[tuple[int, ...], int]:
    counts: Counter[tuple[int, ...]] = Counter()
    for record in records:
        for k in range(1, length + 1):
            counts.update(itertools.combinations(sorted(record), k))
    return dict(counts)


def _pairs(index: AttributeIndex, ids: tuple[int, ...]) -> frozenset[tuple[str, str]]:
    return frozenset(
        (index.columns[index.attribute_column[a]], index.attribute_value[a]) for a in ids
    )


def _check(frame: pl.DataFrame, schema: Schema, length: int) -> None:
    data = encode(frame, schema)
    counts = count_combinations(data, length)
    got = counts.as_dict()

    # 1. the counter agrees with brute force over the encoded records
    records = [data.record(i).tolist() for i in range(data.n_records)]
    assert got == _brute_force_ids(records, length)

    # 2. and with brute force over the raw cells, by (column, value) pairs
    raw: Counter[frozenset[tuple[str, str]]] = Counter()
    for attributes in _raw_attributes(frame, schema):
        for k in range(1, length + 1):
            raw.update(frozenset(c) for c in itertools.combinations(attributes, k))
    assert {_pairs(data.attributes, ids): c for ids, c in got.items()} == dict(raw)

    # 3. rows ordered by length, then attribute ids; labels parse back to the pairs
    keys = [(len(ids), ids) for ids in got]
    assert keys == sorted(keys)
    frame_out = counts.to_frame()
    for label, ids in zip(frame_out["combination"], got, strict=True):
        assert frozenset(split_combination(label)) == _pairs(data.attributes, ids)

    # 4. per-record sensitivity is C(m, k) and adds up to the counts of length k
    lengths = data.record_lengths()
    for k in range(1, length + 1):
        per_record = combinations_per_record(lengths, k)
        assert per_record.tolist() == [math.comb(int(m), k) for m in lengths]
        assert int(per_record.sum()) == int(counts.counts[counts.lengths == k].sum())
    stats = sensitivity(data, length)
    assert [s.maximum for s in stats] == [
        max(math.comb(int(m), k) for m in lengths) for k in range(1, length + 1)
    ]


@SETTINGS
@given(table=tables(multi_value=False), length=st.integers(1, 4))
def test_counts_equal_brute_force(table: tuple[pl.DataFrame, Schema], length: int) -> None:
    _check(*table, length)


@SETTINGS
@given(table=tables(multi_value=True), length=st.integers(1, 4))
def test_counts_equal_brute_force_with_multi_value_columns(
    table: tuple[pl.DataFrame, Schema], length: int
) -> None:
    _check(*table, length)


TEXT = st.text(alphabet=st.sampled_from("ab;:\\ é|"), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(pairs=st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=4, unique_by=lambda p: p[0]))
def test_labels_parse_back(pairs: list[tuple[str, str]]) -> None:
    columns = tuple(c for c, _ in pairs)
    index = AttributeIndex(
        columns=columns,
        multi_value=(False,) * len(columns),
        attribute_column=np.arange(len(columns)),
        attribute_value=tuple(v for _, v in pairs),
    )
    label = index.combination_label(list(range(len(pairs))))
    assert split_combination(label) == pairs
