"""The graphical model of noisy marginals (private-pgm, the ``mbi`` package).

Post-processing only: every function here takes noisy :class:`Measurement` objects or a
model estimated from them, never sensitive records. AIM needs the model between its
rounds (to choose what to measure next), so it lives beside the mechanism; the
synthesizer (:mod:`dpshowcase.synthesize.pgm`) estimates the final model with it. private-pgm
(McKenna, Sheldon, Miklau, "Graphical-model based estimation and inference for
differential privacy", ICML 2019) finds the Markov random field whose marginals best fit
the noisy measurements (mirror descent on the squared error, each measurement weighted by
1/σ), and sampling records from it gives synthetic data whose marginals agree with one
consistent distribution. mbi's own noise helpers are never used: the noise came from
OpenDP in :mod:`dpshowcase.privacy.aim`.

``mbi`` needs JAX; both are the optional extra ``dpshowcase[aim]``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dpshowcase.errors import ParameterError
from dpshowcase.privacy.model_size import model_sizes_mb

__all__ = [
    "FINAL_ITERS",
    "FINAL_ITERS_MST",
    "Measurement",
    "estimate",
    "model_cliques",
    "project",
    "project_many",
    "within_size",
]

FINAL_ITERS = 1000
"""Mirror-descent iterations of the model AIM's records are sampled from (as AIM's
reference code; 3000 did not raise its NIST k-marginal score on national2019)."""
FINAL_ITERS_MST = 3000
"""Mirror-descent iterations of the model MST's records are sampled from: fitted cold
to the tree's measurements (its model between selections saw only the 1-way marginals),
1000 left it short — on national2019 (ε = 1, 4 seeds) 3000 raised the NIST k-marginal
score by 2 to 4 points; a tree's model fits in seconds."""
SAMPLE_FOR_SCORES = 20_000
"""Records drawn from the model to estimate marginals its cliques do not hold."""

Clique = tuple[int, ...]


@dataclass(frozen=True)
class Measurement:
    """One noisy marginal: every cell of the columns ``clique``, with noise scale σ."""

    clique: Clique
    """Column indices, ascending."""
    noisy: np.ndarray
    """float64 noisy counts of every cell, C order over the columns' value codes."""
    sigma: float
    """Scale of the discrete Gaussian noise of each cell."""


def _mbi() -> Any:
    """Import mbi with JAX in float64 (mbi warns that float32 stalls on large counts)."""
    try:
        # Deferred: JAX and mbi are the optional extra [aim] and take seconds to import.
        import jax
    except ImportError:  # pragma: no cover - depends on the installation
        raise ParameterError(
            "The aim and mst synthesizers need private-pgm: pip install 'dpshowcase[aim]'."
        ) from None
    jax.config.update("jax_enable_x64", True)
    # mbi compiles many small programs; a persistent cache only costs disk writes
    jax.config.update("jax_enable_compilation_cache", False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Deferred: JAX and mbi are the optional extra [aim] and take seconds to import.
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
    # Deferred: JAX and mbi are the optional extra [aim] and take seconds to import.
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
    """The model's counts of every cell of ``clique`` (C order), exact.

    Summed out of a junction-tree clique's marginal when one holds ``clique`` (numpy, no
    JAX compilation); otherwise by private-pgm's inference.
    """
    exact = _from_junction_tree(model, [clique])
    if clique in exact:
        return exact[clique]
    return np.asarray(model.project(_names(clique)).datavector(), dtype=np.float64)


def _from_junction_tree(model: Any, cliques: Sequence[Clique]) -> dict[Clique, np.ndarray]:
    """Counts of the ``cliques`` that lie inside one of the model's junction-tree cliques."""
    tables: dict[frozenset[int], tuple[Clique, np.ndarray]] = {}
    for clique in model.marginals.cliques:
        columns = tuple(int(a[1:]) for a in clique)
        array = np.asarray(model.marginals[clique].datavector(flatten=False), dtype=np.float64)
        tables[frozenset(columns)] = (columns, array)
    out: dict[Clique, np.ndarray] = {}
    for cl in cliques:
        found = next((t for key, t in tables.items() if set(cl) <= key), None)
        if found is None:
            continue
        columns, array = found
        axes = tuple(i for i, c in enumerate(columns) if c not in cl)
        summed = array.sum(axis=axes) if axes else array
        kept = [c for c in columns if c in cl]
        order = [kept.index(c) for c in cl]
        out[cl] = np.transpose(summed, order).ravel()
    return out


def project_many(model: Any, cliques: Sequence[Clique]) -> dict[Clique, np.ndarray]:
    """The model's counts for many marginals, fast.

    A marginal inside one of the model's (junction-tree) cliques is summed out of that
    clique's marginal exactly; any other is counted in a sample of the model, which is
    enough to rank candidates (AIM's selection) and is post-processing.
    """
    out = _from_junction_tree(model, cliques)
    missing = [cl for cl in cliques if cl not in out]
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
    already inside a model clique (free). The junction-tree sizes are private-pgm's
    ``hypothetical_model_size``, computed for all candidates at once by
    :func:`~dpshowcase.privacy.model_size.model_sizes_mb`."""
    existing = [tuple(int(a[1:]) for a in cl) for cl in current]
    inside = {cl for cl in candidates if any(set(cl) <= set(e) for e in existing)}
    rest = [cl for cl in candidates if cl not in inside]
    fits = model_sizes_mb(sizes, existing, rest) <= limit if rest else np.zeros(0, dtype=bool)
    allowed = inside | {cl for cl, ok in zip(rest, fits, strict=True) if ok}
    return [cl for cl in candidates if cl in allowed]
