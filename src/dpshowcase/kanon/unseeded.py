"""Unseeded k-anonymity synthesis (synthetic-data-showcase's "unseeded" mode).

Each synthetic record is drawn column by column in a random column order: the next
value is drawn in proportion to how many sensitive records hold it together with the
values drawn so far, among the values held by at least k of them; the rest count as
an empty cell (as in the reference, drawing "empty" restricts the rows to empty cells).
A multi-value column is one yes/no column per value. As in the reference, as many
records are drawn as there are sensitive records.

Two differences from the reference, both for speed or fidelity and neither weakening
the guarantee: a column order is shared by a block of records (``orders`` blocks in
all) so a block can be drawn as one walk down a tree of row partitions (see
:mod:`._kernels`); and the records are then consolidated and suppressed like the other
modes, so that their attribute counts equal the released counts.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from dpshowcase.data.encode import SensitiveData
from dpshowcase.errors import ParameterError
from dpshowcase.kanon import _kernels
from dpshowcase.kanon.consolidate import to_released_counts
from dpshowcase.kanon.records import Records, from_lists
from dpshowcase.kanon.synthesizer import KAnonymousSynthesizer
from dpshowcase.progress import Progress

DEFAULT_ORDERS = 64
"""Column orders drawn (the reference draws one per record)."""

_DRAWING = "Synthesizing: unseeded records"


class UnseededSynthesizer(KAnonymousSynthesizer):
    """Records drawn column by column from the sensitive records' joint distribution."""

    name = "unseeded"

    def __init__(self, k: int, *, seed: int | None = None, orders: int = DEFAULT_ORDERS) -> None:
        super().__init__(k, seed=seed)
        if isinstance(orders, bool) or not isinstance(orders, int) or orders < 1:
            raise ParameterError(f"orders must be a whole number of at least 1, not {orders!r}.")
        self.orders = orders

    def _sample(
        self, data: SensitiveData, rng: np.random.Generator, notify: Progress
    ) -> Records:
        value_of, slot_attributes, slot_start = _slots(data)
        n_slots = slot_start.size - 1
        n = data.n_records
        blocks = min(self.orders, n)
        sizes = np.full(blocks, n // blocks, dtype=np.int64)
        sizes[: n % blocks] += 1
        orders = [rng.permutation(n_slots).astype(np.int64) for _ in range(blocks)]
        seeds = rng.integers(0, 2**31 - 1, size=blocks)
        notify(_DRAWING, 0, blocks)

        def draw(b: int) -> np.ndarray:
            return _kernels.unseeded_block(
                value_of,
                slot_attributes,
                slot_start,
                orders[b],
                self.k,
                int(sizes[b]),
                int(seeds[b]),
            )

        parts = []
        with ThreadPoolExecutor(max_workers=_threads()) as pool:
            for done, part in enumerate(pool.map(draw, range(blocks)), start=1):
                parts.append(part)
                notify(_DRAWING, done, blocks)
        slots = np.concatenate(parts) if parts else np.full((0, n_slots), -1, np.int32)
        held = slots >= 0
        indptr = np.zeros(slots.shape[0] + 1, dtype=np.int64)
        np.cumsum(held.sum(axis=1), out=indptr[1:])
        drawn = from_lists(data.attributes, indptr, slots[held])
        return to_released_counts(data, self.k, drawn, rng, notify)


def _slots(data: SensitiveData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each record's value index per slot (-1: empty), and the attributes of each slot.

    A slot is a single-valued column, or one value of a multi-value column.
    """
    attributes = data.attributes
    slot_of = np.empty(attributes.n_attributes, dtype=np.int64)
    value_index = np.empty(attributes.n_attributes, dtype=np.int64)
    members: list[np.ndarray] = []
    for c, name in enumerate(attributes.columns):
        ids = np.array(attributes.attributes_of(name), dtype=np.int64)
        if ids.size == 0:
            continue
        if attributes.multi_value[c]:
            for a in ids:
                slot_of[a] = len(members)
                value_index[a] = 0
                members.append(np.array([a], dtype=np.int64))
        else:
            slot_of[ids] = len(members)
            value_index[ids] = np.arange(ids.size)
            members.append(ids)
    slot_start = np.zeros(len(members) + 1, dtype=np.int64)
    np.cumsum([m.size for m in members], out=slot_start[1:])
    slot_attributes = np.concatenate(members) if members else np.zeros(0, dtype=np.int64)
    widest = max((m.size for m in members), default=0)
    dtype = np.int16 if widest < np.iinfo(np.int16).max else np.int32
    value_of = np.full((data.n_records, len(members)), -1, dtype=dtype)
    record = np.repeat(np.arange(data.n_records), data.record_lengths())
    value_of[record, slot_of[data.indices]] = value_index[data.indices]
    return value_of, slot_attributes, slot_start


def _threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
