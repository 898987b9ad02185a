"""Synthetic records sampled from the graphical model of AIM's or MST's measurements.

Post-processing only: :class:`PgmSynthesizer` takes :class:`MarginalMeasurements` —
the noisy marginals, the released values and the protected record count — never
sensitive records. The model is private-pgm's (:mod:`dpshowcase.privacy.graphical`);
mbi's own noise helpers are never used: the noise came from OpenDP in
:mod:`dpshowcase.privacy.aim`. ``mbi`` needs JAX; both are the optional extra
``dpshowcase[aim]``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl

from dpshowcase.aggregate.count import CombinationCounts, count_combinations
from dpshowcase.aggregate.protected import ProtectedAggregates
from dpshowcase.data.encode import encode_public
from dpshowcase.errors import ParameterError
from dpshowcase.privacy.aim import MarginalMeasurements
from dpshowcase.privacy.graphical import FINAL_ITERS, FINAL_ITERS_MST, estimate
from dpshowcase.progress import Progress

__all__ = ["PgmSynthesizer"]


@contextlib.contextmanager
def _numpy_seed(seed: int | None) -> Iterator[None]:
    """mbi samples with numpy's global generator: seed it for --seed, then restore it."""
    if seed is None:
        yield
        return
    state = np.random.get_state()
    np.random.seed(seed % 2**32)
    try:
        yield
    finally:
        np.random.set_state(state)


class PgmSynthesizer:
    """Synthetic records sampled from the graphical model of AIM's or MST's measurements."""

    def __init__(self, *, seed: int | None = None, iters: int | None = None) -> None:
        """``seed`` makes the sampling reproducible (tests, demos); ``iters`` of the final
        fit default to :data:`FINAL_ITERS` for AIM, :data:`FINAL_ITERS_MST` for MST."""
        self.seed = seed
        self.requested_iters = iters
        self.iters = FINAL_ITERS if iters is None else iters
        self._measurements: MarginalMeasurements | None = None
        self._model: Any = None
        self._records: np.ndarray | None = None

    def fit(self, measurements: MarginalMeasurements) -> PgmSynthesizer:
        """Estimate the model from the protected measurements alone."""
        if not isinstance(measurements, MarginalMeasurements):
            raise ParameterError(
                "The model-based synthesizer reads protected measurements only, got "
                f"{type(measurements).__name__}."
            )
        self._measurements = measurements
        if self.requested_iters is None:
            self.iters = FINAL_ITERS_MST if measurements.synthesizer == "mst" else FINAL_ITERS
        self._model = estimate(
            measurements.sizes,
            measurements.measurements,
            float(max(measurements.record_count, 1)),
            iters=self.iters,
        )
        return self

    def sample(self, progress: Progress | None = None) -> pl.DataFrame:
        """As many records as the protected count, one string column per column."""
        m = self._require()
        if progress:
            progress("Synthesizing", 0, 1)
        rows = max(m.record_count, 0)
        with _numpy_seed(self.seed):
            data = self._model.synthetic_data(rows, method="round").to_dict() if rows else {}
        codes = np.zeros((len(m.columns), rows), dtype=np.int64)
        for c in range(len(m.columns)):
            if rows:
                codes[c] = np.asarray(data[f"c{c}"], dtype=np.int64)
        self._records = codes
        if progress:
            progress("Synthesizing", 1, 1)
        return pl.DataFrame(
            {
                name: pl.Series(name, np.array(m.values[c], dtype=object)[codes[c]].tolist(),
                                dtype=pl.String)
                for c, name in enumerate(m.columns)
            }
        )  # fmt: skip

    def fitted_aggregates(self, synthetic: pl.DataFrame) -> ProtectedAggregates:
        """The published counts: the sampled records' counts of every combination whose
        columns lie within a measured marginal (the model's consistent marginals, as
        rounded into records; the synthetic data agree with them exactly)."""
        m = self._require()
        r = max(1, min(max(len(x.clique) for x in m.measurements), len(m.columns)))
        data = encode_public(synthetic, m.schema.as_released())
        counts = count_combinations(data, r)
        # a bit per column: a combination is kept when its columns lie in a measured set
        column_of = counts.attributes.attribute_column.astype(np.int64)
        combos = counts.combinations.astype(np.int64)
        bits = np.where(combos >= 0, np.left_shift(1, column_of[np.maximum(combos, 0)]), 0)
        mask = np.bitwise_or.reduce(bits, axis=1) if bits.size else np.zeros(0, np.int64)
        keep = np.zeros(len(counts), dtype=bool)
        for measured in {sum(1 << c for c in x.clique) for x in m.measurements}:
            keep |= (mask & ~measured) == 0
        kept = CombinationCounts(
            attributes=counts.attributes,
            combinations=counts.combinations[keep],
            lengths=counts.lengths[keep],
            counts=counts.counts[keep],
            reporting_length=r,
        )
        parameters = m.parameters()
        parameters["counts"] = (
            "consistent estimates: the counts of the synthetic records sampled from the "
            "graphical model, for every combination inside a measured marginal"
        )
        parameters["synthesis"] = {
            "method": f"private-pgm graphical model ({m.synthesizer.upper()})",
            "estimation": f"mirror descent, {self.iters} iterations",
            "records": "the protected record count",
        }
        return m.issue_aggregates(kept, parameters)

    def _require(self) -> MarginalMeasurements:
        if self._measurements is None or self._model is None:
            raise ParameterError("Call fit() before sample().")
        return self._measurements
