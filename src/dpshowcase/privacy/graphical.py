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

Where the work is done: private-pgm's junction tree (``make_junction_tree``, no JAX) and
its ``MarkovRandomField`` (sampling the records) are used as they are; its mirror
descent runs as :mod:`~dpshowcase.privacy.mirror_descent` (the same steps, compiled once
by numba: JAX recompiled it for every new set of measured marginals, which made AIM's
rounds slower than the estimation itself), and marginals outside the model's cliques
come exactly from :mod:`~dpshowcase.privacy.tree_inference` (numpy).

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
from dpshowcase.privacy import mirror_descent
from dpshowcase.privacy.mirror_descent import RoundModel
from dpshowcase.privacy.model_size import model_sizes_mb
from dpshowcase.privacy.tree_inference import CalibratedTree, calibrate

__all__ = [
    "FINAL_ITERS",
    "FINAL_ITERS_MST",
    "Measurement",
    "calibrated",
    "estimate",
    "fit_round",
    "model_cliques",
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
) -> Any:
    """The Markov random field that best fits ``measurements``, as private-pgm's
    ``MarkovRandomField`` (which samples the records).

    Fitted by :func:`fit_round` — private-pgm's mirror descent, same steps, compiled once
    with numba instead of by JAX for every model structure — from a cold start; the
    potentials are then handed to private-pgm on the maximal measured cliques, each the
    sum of its measurements' accumulated tables (private-pgm's own parameterisation).
    """
    fitted = fit_round(sizes, measurements, total, iters=iters)
    return _private_pgm_model(sizes, measurements, fitted)


def _private_pgm_model(
    sizes: Sequence[int], measurements: Sequence[Measurement], fitted: RoundModel
) -> Any:
    mbi = _mbi()
    # Deferred: JAX is the optional extra [aim] and takes seconds to import.
    import jax.numpy as jnp

    domain = _domain(sizes)

    def shape(clique: Sequence[int]) -> tuple[int, ...]:
        return tuple(int(sizes[c]) for c in clique)

    tables = {cl: np.zeros(shape(cl)) for cl in fitted.cliques}
    for m, added in zip(measurements, fitted.accumulated, strict=True):
        home = min(
            (cl for cl in fitted.cliques if set(m.clique) <= set(cl)),
            key=lambda cl: math.prod(shape(cl)),
        )
        view = [sizes[c] if c in m.clique else 1 for c in home]
        order = sorted(range(len(m.clique)), key=lambda k: m.clique[k])
        table = np.transpose(np.asarray(added).reshape(shape(m.clique)), order)
        tables[home] = tables[home] + table.reshape(view)

    def vector(arrays: dict[Clique, np.ndarray]) -> Any:
        factors = {
            _names(cl): mbi.Factor(domain.project(_names(cl)), jnp.asarray(arrays[cl]))
            for cl in fitted.cliques
        }
        return mbi.CliqueVector(domain, [_names(cl) for cl in fitted.cliques], factors)

    marginals = {cl: fitted.tree.marginal(cl).reshape(shape(cl)) for cl in fitted.cliques}
    return mbi.MarkovRandomField(
        potentials=vector(tables), marginals=vector(marginals), total=fitted.tree.total
    )


def fit_round(
    sizes: Sequence[int],
    measurements: Sequence[Measurement],
    total: float,
    *,
    iters: int,
    warm_start: RoundModel | None = None,
    tol: float | None = None,
) -> RoundModel:
    """AIM's model between rounds: private-pgm's mirror descent, compiled once (numba).

    The same algorithm, loss, step sizes and junction tree as :func:`estimate` (see
    :mod:`~dpshowcase.privacy.mirror_descent`), without JAX's per-round compilation;
    the result holds the calibrated tree AIM scores candidates with.
    """
    _mbi()  # the optional extra [aim], imported with JAX set to float64
    # Deferred: JAX and mbi are the optional extra [aim] and take seconds to import.
    from mbi import junction_tree

    cliques = mirror_descent.maximal_cliques([m.clique for m in measurements])
    jtree, _ = junction_tree.make_junction_tree(_domain(sizes), [_names(c) for c in cliques])

    def columns(clique: Sequence[str]) -> Clique:
        return tuple(int(a[1:]) for a in clique)

    return mirror_descent.fit(
        sizes,
        [columns(n) for n in jtree.nodes],
        [(columns(a), columns(b)) for a, b in jtree.edges],
        [(m.clique, m.noisy, m.sigma) for m in measurements],
        total,
        iters=iters,
        warm_start=warm_start,
        tol=tol,
    )


def model_cliques(model: Any) -> list[Clique]:
    """The model's cliques as column indices."""
    return [tuple(int(a[1:]) for a in cl) for cl in model.cliques]


def calibrated(model: Any) -> CalibratedTree:
    """The model's junction tree with every node's counts (numpy, no JAX compilation).

    The tree is private-pgm's own (``make_junction_tree``: networkx, no JAX); the
    beliefs come from the model's potentials by :func:`tree_inference.calibrate`.
    """
    # Deferred: JAX and mbi are the optional extra [aim] and take seconds to import.
    from mbi import junction_tree

    cliques = [tuple(cl) for cl in model.cliques]
    jtree, _ = junction_tree.make_junction_tree(model.domain, cliques)

    def columns(clique: Sequence[str]) -> Clique:
        return tuple(int(a[1:]) for a in clique)

    potentials = {
        columns(cl): np.asarray(model.potentials[cl].values, dtype=np.float64) for cl in cliques
    }
    return calibrate(
        tuple(int(s) for s in model.domain.shape),
        [columns(n) for n in jtree.nodes],
        [(columns(a), columns(b)) for a, b in jtree.edges],
        potentials,
        float(model.total),
    )


def within_size(
    sizes: Sequence[int], current: Sequence[Clique], candidates: list[Clique], limit: float
) -> list[Clique]:
    """AIM's filter: candidates whose addition keeps the model ≤ ``limit`` MB, plus those
    already inside a model clique (free). ``current`` are the model's cliques (column
    indices). The junction-tree sizes are private-pgm's ``hypothetical_model_size``,
    computed for all candidates at once by
    :func:`~dpshowcase.privacy.model_size.model_sizes_mb`."""
    existing = [tuple(int(c) for c in cl) for cl in current]
    inside = {cl for cl in candidates if any(set(cl) <= set(e) for e in existing)}
    rest = [cl for cl in candidates if cl not in inside]
    fits = model_sizes_mb(sizes, existing, rest) <= limit if rest else np.zeros(0, dtype=bool)
    allowed = inside | {cl for cl, ok in zip(rest, fits, strict=True) if ok}
    return [cl for cl in candidates if cl in allowed]
