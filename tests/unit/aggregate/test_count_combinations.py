"""Exact combination counts on small hand-made tables."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from dpshowcase.aggregate.count import (
    MAX_REPORTING_LENGTH,
    check_reporting_length,
    count_combinations,
)
from dpshowcase.aggregate.io import COUNT_COLUMNS, read_counts, write_table
from dpshowcase.aggregate.sensitivity import combinations_per_record, sensitivity
from dpshowcase.data.attributes import split_combination
from dpshowcase.data.encode import SensitiveData, encode
from dpshowcase.errors import InputError, ParameterError
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema


def _frame(**columns: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


ROWS = {
    "gender": ["F", "F", "M", "F", "", "M"],
    "age": ["9--17", "18--20", "18--20", "9--17", "9--17", ""],
    "flag": ["1", "1", "0", "", "1", "1"],
}


def _data() -> SensitiveData:
    return encode(_frame(**ROWS), Schema.all_categorical(list(ROWS)))


def _label_counts(frame: pl.DataFrame) -> dict[str, int]:
    return dict(zip(frame["combination"].to_list(), frame["count"].to_list(), strict=True))


def test_counts_of_a_small_table() -> None:
    counts = count_combinations(_data(), 3)
    by_label = _label_counts(counts.to_frame())
    # counted by hand from ROWS (0 in a flag column is absence)
    expected = {
        "gender:F": 3,
        "gender:M": 2,
        "age:9--17": 3,
        "age:18--20": 2,
        "flag:1": 4,
        "gender:F;age:9--17": 2,
        "gender:F;age:18--20": 1,
        "gender:M;age:18--20": 1,
        "gender:F;flag:1": 2,
        "gender:M;flag:1": 1,
        "age:9--17;flag:1": 2,
        "age:18--20;flag:1": 1,
        "gender:F;age:9--17;flag:1": 1,
        "gender:F;age:18--20;flag:1": 1,
    }
    assert by_label == expected


def test_rows_are_ordered_by_length_then_attribute_ids() -> None:
    counts = count_combinations(_data(), 3)
    keys = [
        (int(length), tuple(int(a) for a in row[:length]))
        for row, length in zip(counts.combinations, counts.lengths, strict=True)
    ]
    assert keys == sorted(keys)
    assert (counts.combinations[counts.lengths == 1, 1:] == -1).all()
    assert counts.of_length(2).sum() == 7


def test_to_frame_columns_and_lengths() -> None:
    frame = count_combinations(_data(), 2).to_frame()
    assert tuple(frame.columns) == COUNT_COLUMNS
    for label, length in zip(frame["combination"], frame["length"], strict=True):
        assert len(split_combination(label)) == length


def test_reporting_length_one_counts_single_attributes() -> None:
    counts = count_combinations(_data(), 1)
    assert set(counts.lengths.tolist()) == {1}
    data = _data()
    assert counts.counts.tolist() == np.bincount(data.indices).tolist()


def test_filter_and_with_counts() -> None:
    counts = count_combinations(_data(), 2)
    kept = counts.filter(counts.counts >= 2)
    assert (kept.counts >= 2).all()
    assert len(kept) == int((counts.counts >= 2).sum())
    doubled = counts.with_counts(counts.counts * 2)
    assert doubled.as_dict() == {k: 2 * v for k, v in counts.as_dict().items()}


def test_progress_is_reported() -> None:
    calls: list[tuple[float, float]] = []
    stages: set[str] = set()
    count_combinations(
        _data(),
        3,
        progress=lambda stage, done, total: (stages.add(stage), calls.append((done, total))),
    )
    assert stages == {"Counting combinations"}
    assert calls
    assert calls[-1][0] == calls[-1][1]
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_records_without_attributes() -> None:
    data = encode(_frame(g=["", None, "0"]), Schema.all_categorical(["g"]))
    counts = count_combinations(data, 2)
    assert len(counts) == 0
    assert counts.to_frame().height == 0


def test_labels_with_special_characters_parse_back() -> None:
    frame = _frame(
        IP_Gender=["Female;Male", "Female;Male", "Female"],
        **{"odd:name": ["a\\b", "a\\b", None]},
    )
    counts = count_combinations(encode(frame, Schema.all_categorical(frame.columns)), 2)
    by_label = _label_counts(counts.to_frame())
    assert by_label["IP_Gender:Female\\;Male"] == 2
    assert by_label["IP_Gender:Female\\;Male;odd\\:name:a\\\\b"] == 2
    pairs = split_combination("IP_Gender:Female\\;Male;odd\\:name:a\\\\b")
    assert pairs == [("IP_Gender", "Female;Male"), ("odd:name", "a\\b")]


def test_multi_value_pairs_within_a_column_are_counted() -> None:
    frame = _frame(m=["a;b", "a;b;c", "b"])
    schema = Schema(columns=(ColumnSpec(name="m", kind=ColumnKind.MULTI_VALUE),))
    by_label = _label_counts(count_combinations(encode(frame, schema), 3).to_frame())
    assert by_label == {
        "m:a": 2,
        "m:b": 3,
        "m:c": 1,
        "m:a;m:b": 2,
        "m:a;m:c": 1,
        "m:b;m:c": 1,
        "m:a;m:b;m:c": 1,
    }


@pytest.mark.parametrize(
    ("length", "message"),
    [
        (0, "whole number of at least 1, not 0"),
        (-1, "whole number of at least 1, not -1"),
        (MAX_REPORTING_LENGTH + 1, f"length of 11 is beyond .* at most {MAX_REPORTING_LENGTH}"),
    ],
)
def test_reporting_length_out_of_range(length: int, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        count_combinations(_data(), length)


def test_reporting_length_must_be_whole() -> None:
    with pytest.raises(ParameterError, match=r"whole number of at least 1, not 2\.5"):
        check_reporting_length(2.5)  # type: ignore[arg-type]


def test_reporting_length_beyond_the_columns() -> None:
    with pytest.raises(ParameterError, match="reporting length 4 is more than the 3 columns"):
        check_reporting_length(4, 3)
    check_reporting_length(3, 3)


def test_too_many_attributes_for_the_reporting_length() -> None:
    # 10 columns of 8 values: 80 attributes; 10 * log2(81) > 62 bits
    n = 8
    frame = pl.DataFrame({f"c{j}": [str((i + j) % n) for i in range(n)] for j in range(10)})
    data = encode(
        frame,
        Schema(columns=tuple(ColumnSpec(name=f"c{j}", sensitive_zero=True) for j in range(10))),
    )
    assert data.attributes.n_attributes == 80
    with pytest.raises(ParameterError, match="80 attributes at reporting length 10 are too many"):
        count_combinations(data, 10)


# --- sensitivity --------------------------------------------------------------------


def test_combinations_per_record_is_the_binomial_coefficient() -> None:
    m = np.arange(0, 40)
    for k in range(1, 11):
        assert combinations_per_record(m, k).tolist() == [math.comb(int(x), k) for x in m]


def test_combinations_per_record_matches_the_counts() -> None:
    data = _data()
    counts = count_combinations(data, 3)
    for k in (1, 2, 3):
        # every occurrence of a k-combination belongs to one record
        assert (
            counts.counts[counts.lengths == k].sum()
            == combinations_per_record(data.record_lengths(), k).sum()
        )


def test_sensitivity_summary() -> None:
    data = _data()
    lengths = data.record_lengths().tolist()
    stats = sensitivity(data, 3)
    assert [s.length for s in stats] == [1, 2, 3]
    for s in stats:
        per_record = [math.comb(m, s.length) for m in lengths]
        assert s.maximum == max(per_record)
        assert s.mean == pytest.approx(sum(per_record) / len(per_record))
        assert s.median == pytest.approx(float(np.median(per_record)))
        assert min(per_record) <= s.p99 <= max(per_record)


# --- count tables on disk -----------------------------------------------------------


@pytest.mark.parametrize("name", ["counts.csv", "counts.parquet"])
def test_write_and_read_a_count_table(tmp_path: Path, name: str) -> None:
    frame = count_combinations(_data(), 3).to_frame()
    path = tmp_path / name
    write_table(frame, path)
    back = read_counts(path)
    assert Counter(back.rows()) == Counter(frame.rows())
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_write_refuses_other_suffixes(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"name the output \.csv or \.parquet"):
        write_table(count_combinations(_data(), 1).to_frame(), tmp_path / "c.json")
    assert list(tmp_path.iterdir()) == []


def test_read_counts_refuses_other_tables(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="is not a count table"):
        read_counts(path)
    with pytest.raises(InputError, match="does not exist"):
        read_counts(tmp_path / "missing.csv")


def test_brute_force_on_the_small_table() -> None:
    data = _data()
    expected: Counter[tuple[int, ...]] = Counter()
    for i in range(data.n_records):
        record = data.record(i).tolist()
        for k in (1, 2):
            expected.update(itertools.combinations(record, k))
    assert count_combinations(data, 2).as_dict() == dict(expected)
