"""Small sensitive tables for the k-anonymity tests, and brute-force answers."""

from __future__ import annotations

import numpy as np
import polars as pl

from dpshowcase.data.encode import SensitiveData
from dpshowcase.kanon.records import Records
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema


def held_by(data: SensitiveData, attributes: set[int]) -> int:
    """How many sensitive records hold every attribute in ``attributes`` (brute force)."""
    return sum(1 for i in range(data.n_records) if attributes <= set(data.record(i).tolist()))


def record_sets(records: Records) -> list[set[int]]:
    """Each record's attribute ids as a set."""
    return [
        set(records.indices[records.indptr[i] : records.indptr[i + 1]].tolist())
        for i in range(records.n_records)
    ]


def cases_frame(seed: int = 0, rows: int = 400) -> pl.DataFrame:
    """Case-like records: a few categorical columns, a flag and a multi-value column."""
    rng = np.random.default_rng(seed)
    gender = rng.choice(["Female", "Male", ""], rows, p=[0.6, 0.35, 0.05])
    age = rng.choice(["0--8", "9--17", "18--20", "21--23", "24--26", ""], rows)
    country = rng.choice(["UKR", "PHL", "MDA", "IDN", "KHM", "NPL", "BGD"], rows)
    flag = rng.choice(["1", "0"], rows, p=[0.3, 0.7])
    means = [
        ";".join(sorted(set(rng.choice(["debt", "threats", "docs"], rng.integers(0, 3)))))
        for _ in range(rows)
    ]
    return pl.DataFrame(
        {"gender": gender, "age": age, "country": country, "isForced": flag, "means": means}
    )


CASES_SCHEMA = Schema(
    columns=(
        ColumnSpec(name="gender"),
        ColumnSpec(name="age"),
        ColumnSpec(name="country"),
        ColumnSpec(name="isForced"),
        ColumnSpec(name="means", kind=ColumnKind.MULTI_VALUE, delimiter=";"),
    )
)
