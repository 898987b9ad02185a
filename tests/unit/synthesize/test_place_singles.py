"""Seeding records with the single attributes the fit fell short of (issue 14).

:func:`_fit.place_short_singles` gives an attribute below its target to records that
can take it at no cost to the objective; with a heavy weight on unreleased
combinations (the spare records' fit) that is pac-synth's rule: an attribute goes only
where every combination it forms was released. Small hand-made tables, so every
placement can be checked by hand.
"""

from __future__ import annotations

import numpy as np

from dpshowcase.aggregate.keys import pack
from dpshowcase.synthesize import _fit
from dpshowcase.synthesize.aggregate_seeded import _children, _recount

# three single-valued columns: slot 0 holds attribute 0 or 1, slot 1 2 or 3, slot 2 4 or 5
SLOT_OF = np.array([0, 0, 1, 1, 2, 2], dtype=np.int64)
BASE = 7
RELEASED = [(0,), (1,), (2,), (3,), (4,), (5,), (0, 2), (0, 4), (1, 3), (2, 4)]
"""Attribute 1 was released with 3 only: {1, 2}, {1, 4} and {1, 5} were not."""


def _tables(records: np.ndarray, targets: dict[tuple[int, ...], int]) -> _fit.FitTables:
    combos = np.full((len(RELEASED), 3), -1, dtype=np.int32)
    for i, combo in enumerate(RELEASED):
        combos[i, : len(combo)] = combo
    keys = pack(combos, BASE)
    order = np.argsort(keys)
    keys, combos = keys[order], combos[order]
    lengths = (combos >= 0).sum(axis=1).astype(np.int64)
    target = np.array([targets.get(RELEASED[i], 0) for i in order], dtype=np.int64)
    weight = np.where(lengths == 1, 20, 4).astype(np.int64)
    table, cells, where = _fit.build_cells(keys, target, weight, keys.size)
    cells[where, _fit.SYNTHETIC] = _recount(records, keys, BASE, 3, SLOT_OF.size)
    child_start, child_row, child_attribute = _children(combos, lengths, keys, BASE)
    pairs = lengths == 2
    return _fit.FitTables(
        table=table,
        cells=cells,
        length_weight=np.array([0, 0, 400, 100], dtype=np.int64),  # unreleased: heavy
        absent_weight=20,
        slot_of=SLOT_OF,
        absent_target=np.zeros(3, dtype=np.int64),  # every record should hold each slot
        absent_now=(records < 0).sum(axis=0).astype(np.int64),
        child_start=child_start,
        child_cell=where[child_row],
        child_attribute=child_attribute,
        n_released=keys.size,
        base=BASE,
        reporting_length=3,
        pair_cell=where[pairs],
        pair_attributes=np.ascontiguousarray(combos[pairs, :2]).astype(np.int64),
        focus=np.zeros(0, dtype=np.int64),
    )


def _records() -> np.ndarray:
    return np.array(
        [
            [-1, 2, -1],  # 1 would form {1, 2}: not released
            [-1, 3, -1],  # 1 forms {1, 3}: released
            [-1, 3, 5],  # {1, 5} and {1, 3, 5} were not released
            [-1, -1, -1],  # empty: 1 forms nothing
            [0, 2, 4],
        ],
        dtype=np.int32,
    )


def test_an_attribute_goes_only_where_every_combination_it_forms_was_released() -> None:
    records = _records()
    fit = _tables(records, {(1,): 5, (1, 3): 5, (0,): 1, (2,): 2, (3,): 2, (4,): 1, (5,): 1})
    placed = _fit.place_short_singles(records, fit, np.arange(5), 5)
    assert placed == 2
    assert records[:, 0].tolist() == [-1, 1, -1, 1, 0]
    # the table follows the records: attribute 1 and the pair {1, 3} are held twice
    counts = _recount(records, fit.table[fit.table != 0], BASE, 3, SLOT_OF.size)
    found = fit.cells[fit.table != 0, _fit.SYNTHETIC]
    assert found.tolist() == counts.tolist()
    assert fit.absent_now.tolist() == (records < 0).sum(axis=0).tolist()


def test_placing_stops_at_the_target() -> None:
    records = _records()
    fit = _tables(records, {(1,): 1, (1, 3): 1, (0,): 1, (2,): 2, (3,): 2, (4,): 1, (5,): 1})
    assert _fit.place_short_singles(records, fit, np.arange(5)[::-1].copy(), 5) == 1
    # visited from the last record: the empty record takes it, then the target is met
    assert records[:, 0].tolist() == [-1, -1, -1, 1, 0]


def test_nothing_is_placed_when_every_single_is_on_target() -> None:
    records = _records()
    fit = _tables(records, {(0,): 1, (2,): 2, (3,): 2, (4,): 1, (5,): 1})
    before = records.copy()
    assert _fit.place_short_singles(records, fit, np.arange(5), 5) == 0
    assert (records == before).all()
