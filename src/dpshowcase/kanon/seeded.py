"""Row-seeded and value-seeded k-anonymity synthesis (synthetic-data-showcase's modes).

- **Row-seeded**: each sensitive record seeds one synthetic record, which takes the
  seed's attributes one at a time — drawn with weight ``|rows(S ∪ b)|``, only while
  the record's whole set S stays held by at least k sensitive records — until none
  fits. Attributes the seeds could not keep are consolidated into further records;
  excess ones are suppressed. The result keeps most of each record's structure.
- **Value-seeded**: no seeds; records are grown from the released attribute counts
  alone (consolidation from a pool holding every released attribute count).
"""

from __future__ import annotations

import numpy as np

from dpshowcase.data.encode import SensitiveData
from dpshowcase.kanon._growth import grow
from dpshowcase.kanon.consolidate import to_released_counts
from dpshowcase.kanon.records import Records
from dpshowcase.kanon.synthesizer import KAnonymousSynthesizer
from dpshowcase.progress import Progress

_SEEDED = "Synthesizing: seeded records"


class RowSeededSynthesizer(KAnonymousSynthesizer):
    """One synthetic record per sensitive record, then consolidation and suppression."""

    name = "row-seeded"

    def _sample(
        self, data: SensitiveData, rng: np.random.Generator, notify: Progress
    ) -> Records:
        notify(_SEEDED, 0, data.n_records)
        indptr, indices = grow(
            data,
            self.k,
            seeds=np.arange(data.n_records),
            rng=rng,
            progress=notify,
            stage=_SEEDED,
        )
        seeded = Records(attributes=data.attributes, indptr=indptr, indices=indices)
        return to_released_counts(data, self.k, seeded, rng, notify)


class ValueSeededSynthesizer(KAnonymousSynthesizer):
    """Records grown from the released attribute counts alone."""

    name = "value-seeded"

    def _sample(
        self, data: SensitiveData, rng: np.random.Generator, notify: Progress
    ) -> Records:
        empty = Records(
            attributes=data.attributes,
            indptr=np.zeros(1, dtype=np.int64),
            indices=np.zeros(0, dtype=np.int32),
        )
        return to_released_counts(data, self.k, empty, rng, notify)
