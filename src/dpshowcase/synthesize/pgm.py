"""Graphical-model synthesis from noisy marginals (private-pgm, the ``mbi`` package).

Post-processing only: every function here takes :class:`MarginalMeasurements` (or the
noisy :class:`Measurement` list inside it), never sensitive records. private-pgm
(McKenna, Sheldon, Miklau, "Graphical-model based estimation and inference for
differential privacy", ICML 2019) finds the Markov random field whose marginals best fit
the noisy measurements (mirror descent on the squared error, each measurement weighted by
1/σ), and sampling records from it gives synthetic data whose marginals agree with one
consistent distribution. mbi's own noise helpers are never used: the noise came from
OpenDP in :mod:`dpshowcase.privacy.aim`.

``mbi`` needs JAX; both are the optional extra ``dpshowcase[aim]``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from dpshowcase.errors import ParameterError

if TYPE_CHECKING:
    from dpshowcase.aggregate.protected import ProtectedAggregates
    from dpshowcase.privacy.aim import MarginalMeasurements, Measurement

__all__ = [
    "FINAL_ITERS",
    "PgmSynthesizer",
    "estimate",
    "project",
    "project_many",
    "within_size",
]

FINAL_ITERS = 1000
"""Mirror-descent iterations of the model the records are sampled from."""
SAMPLE_FOR_SCORES = 20_000
"""Records drawn from the model to estimate marginals its cliques do not hold."""

Clique = tuple[int, ...]


def _mbi() -> Any:
    """Import mbi with JAX in float64 (mbi warns that float32 stalls on large counts)."""
    try:
        import jax
    except ImportError:  # pragma: no cover - depends on the installation
        raise ParameterError(
            "The aim and mst synthesizers need private-pgm: pip install 'dpshowcase[aim]'."
        ) from None
    jax.config.update("jax_enable_x64", True)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mbi
    return mbi


def _names(clique: Sequence[int]) -> tuple[str, ...]:
    return tuple(f"c{c}" for c in clique)


def _domain(sizes: Sequence[int]) -> Any:
    return _mbi().Domain(_names(range(len(sizes))), tuple(int(s) for s in sizes))


def estimate(
    sizes: Sequence[int],
    measurements: Sequence[Measurement],
    total: float,
    *,
    iters: int = FINAL_ITERS,
    warm_start: Any = None,
) -> Any:
    """The Markov random field that best fits ``measurements`` (private-pgm)."""
    mbi = _mbi()
    from mbi.estimation import MirrorDescent

    linear = [
        mbi.LinearMeasurement(np.asarray(m.noisy, dtype=np.float64), _names(m.clique), m.sigma)
        for m in measurements
    ]
    return MirrorDescent().estimate(
        _domain(sizes), linear, known_total=float(total), iters=iters, warm_start=warm_start
    )


def model_cliques(model: Any) -> list[Clique]:
    """The model's cliques as column indices."""
    return [tuple(int(a[1:]) for a in cl) for cl in model.cliques]


def project(model: Any, clique: Clique) -> np.ndarray:
    """The model's counts of every cell of ``clique`` (C order), exact."""
    return np.asarray(model.project(_names(clique)).datavector(), dtype=np.float64)


def project_many(model: Any, cliques: Sequence[Clique]) -> dict[Clique, np.ndarray]:
    """The model's counts for many marginals, fast.

    A marginal inside one of the model's (junction-tree) cliques is summed out of that
    clique's marginal exactly; any other is counted in a sample of the model, which is
    enough to rank candidates (AIM's selection) and is post-processing.
    """
    tables: dict[frozenset[int], tuple[Clique, np.ndarray]] = {}
    for clique in model.marginals.cliques:
        columns = tuple(int(a[1:]) for a in clique)
        array = np.asarray(model.marginals[clique].datavector(flatten=False), dtype=np.float64)
        tables[frozenset(columns)] = (columns, array)
    out: dict[Clique, np.ndarray] = {}
    missing = []
    for cl in cliques:
        found = next((t for key, t in tables.items() if set(cl) <= key), None)
        if found is None:
            missing.append(cl)
            continue
        columns, array = found
        axes = tuple(i for i, c in enumerate(columns) if c not in cl)
        summed = array.sum(axis=axes) if axes else array
        kept = [c for c in columns if c in cl]
        order = [kept.index(c) for c in cl]
        out[cl] = np.transpose(summed, order).ravel()
    if missing:
        total = float(model.total)
        rows = max(SAMPLE_FOR_SCORES, int(total))
        sample = model.synthetic_data(rows, method="sample").to_dict()
        sizes = model.domain.shape
        for cl in missing:
            shape = tuple(sizes[c] for c in cl)
            flat = np.ravel_multi_index(tuple(sample[f"c{c}"] for c in cl), shape)
            counts = np.bincount(flat, minlength=math.prod(shape)).astype(np.float64)
            out[cl] = counts * (total / rows)
    return out


def within_size(
    sizes: Sequence[int], current: Sequence[Sequence[str]], candidates: list[Clique], limit: float
) -> list[Clique]:
    """AIM's filter: candidates whose addition keeps the model ≤ ``limit`` MB, plus those
    already inside a model clique (free). Cheap bounds first; junction trees only when
    needed."""
    from mbi.junction_tree import hypothetical_model_size

    domain = _domain(sizes)
    existing = [tuple(int(a[1:]) for a in cl) for cl in current]
    names = [tuple(cl) for cl in current]
    base = hypothetical_model_size(domain, names) if names else 0.0
    out = []
    for cl in candidates:
        if any(set(cl) <= set(e) for e in existing):
            out.append(cl)
            continue
        own = math.prod(sizes[c] for c in cl) * 8 / 2**20
        if base + own > limit:
            continue  # the new clique's own table alone breaks the cap
        if hypothetical_model_size(domain, [*names, _names(cl)]) <= limit:
            out.append(cl)
    return out


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

    def __init__(self, *, seed: int | None = None, iters: int = FINAL_ITERS) -> None:
        """``seed`` makes the sampling reproducible (tests, demos)."""
        self.seed = seed
        self.iters = iters
        self._measurements: MarginalMeasurements | None = None
        self._model: Any = None
        self._records: np.ndarray | None = None

    def fit(self, measurements: MarginalMeasurements) -> PgmSynthesizer:
        """Estimate the model from the protected measurements alone."""
        from dpshowcase.privacy.aim import MarginalMeasurements

        if not isinstance(measurements, MarginalMeasurements):
            raise ParameterError(
                "The model-based synthesizer reads protected measurements only, got "
                f"{type(measurements).__name__}."
            )
        self._measurements = measurements
        self._model = estimate(
            measurements.sizes,
            measurements.measurements,
            float(max(measurements.record_count, 1)),
            iters=self.iters,
        )
        return self

    def sample(self, progress: Callable[[int, int], None] | None = None) -> pl.DataFrame:
        """As many records as the protected count, one string column per column."""
        m = self._require()
        if progress:
            progress(0, 1)
        rows = max(m.record_count, 0)
        with _numpy_seed(self.seed):
            data = self._model.synthetic_data(rows, method="round").to_dict() if rows else {}
        codes = np.zeros((len(m.columns), rows), dtype=np.int64)
        for c in range(len(m.columns)):
            if rows:
                codes[c] = np.asarray(data[f"c{c}"], dtype=np.int64)
        self._records = codes
        if progress:
            progress(1, 1)
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
        from dpshowcase.aggregate.count import CombinationCounts, count_combinations
        from dpshowcase.aggregate.protected import ProtectedAggregates
        from dpshowcase.data.encode import encode
        from dpshowcase.evaluate._space import released_schema

        m = self._require()
        r = max(1, min(max(len(x.clique) for x in m.measurements), len(m.columns)))
        data = encode(synthetic, released_schema(m.schema), allow_identifiers=True)
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
        return ProtectedAggregates(
            counts=kept,
            record_count=m.record_count,
            mode="dp",
            guarantee=m.guarantee,
            parameters=parameters,
            private=m.private,
        )

    def _require(self) -> MarginalMeasurements:
        if self._measurements is None or self._model is None:
            raise ParameterError("Call fit() before sample().")
        return self._measurements
