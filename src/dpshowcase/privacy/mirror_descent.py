"""private-pgm's mirror descent for AIM's per-round models, compiled once with numba.

AIM re-estimates its graphical model after every measurement. private-pgm (``mbi``) does
it with JAX, which compiles a new program whenever the set of measured marginals changes
— every round — and on a 2-core machine that compilation took longer than the
estimation itself (~10 s a round on 24 columns). This module runs the same algorithm on
the same junction tree without per-round compilation:

* the loss is private-pgm's L = Σ_M ½‖(M(μ) − y_M)/σ_M‖² over the noisy marginals y_M;
* the step is private-pgm's ``MirrorDescent`` (Algorithm 1 of McKenna et al. 2019):
  θ₂ = θ − α·∇L(μ), accepted when L(μ) − L(μ₂) ≥ ½·α·⟨∇L, μ − μ₂⟩ (then α ← 1.01·α,
  else α ← α/2), α starting at 2/(Lip·total) with private-pgm's Lipschitz constant of
  ∇L (computed from the measurements' sizes and σ, as its ``from_linear_measurements``);
* μ = the model's marginals by log-space belief propagation on the junction tree.

The potentials are kept in measurement space: every step adds −α·(M(μ) − y_M)/σ_M² to
the cells of each measurement, so θ = Σ_M (accumulated table of M, broadcast over its
columns). That is exactly private-pgm's parameterisation (its potentials on the maximal
measured cliques only ever receive these broadcast updates), and it carries over to the
next round unchanged whatever the new junction tree: warm starting costs nothing. One
belief propagation per step is enough (the accepted μ₂ is the next step's μ).

Post-processing: only noisy measurements, σ, the protected total and public domain sizes
are read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from dpshowcase.errors import InternalError
from dpshowcase.privacy.tree_inference import CalibratedTree, tree_order

__all__ = ["RoundModel", "fit", "lipschitz", "maximal_cliques"]

Clique = tuple[int, ...]

BLOCK = 50
"""Steps between early-stopping checks (private-pgm's ``CALLBACK_EVERY``)."""


def maximal_cliques(cliques: Sequence[Clique]) -> list[Clique]:
    """The measured cliques not inside another one, in private-pgm's order
    (``maximal_subset``: longest first, then as measured) — the order breaks its ties
    when a measurement is routed to a maximal clique (:func:`lipschitz`)."""
    out: list[Clique] = []
    seen: set[frozenset[int]] = set()
    for cl in sorted((tuple(sorted(c)) for c in cliques), key=len, reverse=True):
        if frozenset(cl) in seen:
            continue
        seen.add(frozenset(cl))
        if not any(set(cl) <= set(m) for m in out):
            out.append(cl)
    return out


def lipschitz(sizes: Sequence[int], cliques: Sequence[Clique], sigmas: Sequence[float]) -> float:
    """private-pgm's Lipschitz constant of ∇L: max over maximal cliques C of
    Σ_{M routed to C} |C| / (|M|·σ_M²), M routed to the smallest maximal clique holding it."""
    maximal = maximal_cliques(cliques)

    def cells(cl: Sequence[int]) -> float:
        return float(math.prod(sizes[a] for a in cl))

    blocks: dict[Clique, float] = {}
    for cl, sigma in zip(cliques, sigmas, strict=True):
        home = min((m for m in maximal if set(cl) <= set(m)), key=cells)
        blocks[home] = blocks.get(home, 0.0) + cells(home) / cells(cl) / max(sigma, 1e-12) ** 2
    return max(blocks.values()) if blocks else 1.0


@dataclass(frozen=True)
class RoundModel:
    """A fitted model: its calibrated tree, and its potentials for the next warm start."""

    tree: CalibratedTree
    cliques: tuple[Clique, ...]
    """The maximal measured cliques (the model's cliques in private-pgm's sense)."""
    accumulated: tuple[np.ndarray, ...]
    """Per measurement (in order), the potential table it has added (flat, C order)."""
    loss: float
    """L at the returned potentials."""
    steps: int
    """Mirror-descent steps taken."""


def _index_map(sizes: Sequence[int], node: Clique, sub: Sequence[int]) -> np.ndarray:
    """For every cell of ``node`` (C order), the index of its cell in ``sub`` (C order)."""
    shape = tuple(sizes[a] for a in node)
    out = np.zeros(shape, dtype=np.int64)
    stride = 1
    for a in reversed(sub):
        axis = node.index(a)
        view = [1] * len(node)
        view[axis] = sizes[a]
        out += (np.arange(sizes[a], dtype=np.int64) * stride).reshape(view)
        stride *= sizes[a]
    return out.ravel()


@numba.njit(cache=True)
def _lse_onto(
    b: np.ndarray,
    lo: int,
    hi: int,
    index: np.ndarray,
    index_lo: int,
    out: np.ndarray,
    out_lo: int,
    n_out: int,
) -> None:
    """out[out_lo + j] = log Σ exp b[k] over the cells k ∈ [lo, hi) with index[..] = j."""
    top = np.full(n_out, -np.inf)
    for k in range(lo, hi):
        j = index[index_lo + k - lo]
        if b[k] > top[j]:
            top[j] = b[k]
    acc = np.zeros(n_out)
    for k in range(lo, hi):
        j = index[index_lo + k - lo]
        acc[j] += math.exp(b[k] - top[j])
    for j in range(n_out):
        out[out_lo + j] = math.log(acc[j]) + top[j] if acc[j] > 0 else -np.inf


@numba.njit(cache=True)
def _propagate(
    theta: np.ndarray,
    tree: tuple[np.ndarray, ...],
    total: float,
    work: tuple[np.ndarray, ...],
    mu: np.ndarray,
) -> None:
    """Two-pass log-space belief propagation: μ (counts of every node's cells) into ``mu``.

    ``tree`` = (node offsets, parents, node → separator cell map, parent → separator cell
    maps, their offsets, separator offsets); ``work`` = three scratch arrays.
    """
    node_off, parent, cmap, pmap, pmap_off, sep_off = tree
    b, msg, down = work
    n = node_off.size - 1
    b[:] = theta
    for i in range(n - 1, 0, -1):  # collect (children come after their parents)
        p = parent[i]
        s0, ns = sep_off[i], sep_off[i + 1] - sep_off[i]
        _lse_onto(b, node_off[i], node_off[i + 1], cmap, node_off[i], msg, s0, ns)
        for k in range(node_off[p], node_off[p + 1]):
            b[k] += msg[s0 + pmap[pmap_off[i] + k - node_off[p]]]
    # distribute (HUGIN: divide out what the child sent), parents first; a node's beliefs
    # are final once its parent has sent to it, so its exponentials serve both its
    # children's messages and its own marginals
    for i in range(n):
        lo, hi = node_off[i], node_off[i + 1]
        top = -np.inf
        for k in range(lo, hi):
            top = max(top, b[k])
        z = 0.0
        for k in range(lo, hi):
            e = math.exp(b[k] - top)
            mu[k] = e
            z += e
        for c in range(i + 1, n):
            if parent[c] != i:
                continue
            s0, s1 = sep_off[c], sep_off[c + 1]
            down[s0:s1] = 0.0
            base = pmap_off[c] - lo
            for k in range(lo, hi):
                down[s0 + pmap[base + k]] += mu[k]
            for j in range(s0, s1):
                # log of the parent's separator mass; a mass that underflowed (below
                # e^-745 of the parent's largest cell) is an impossible state: −∞
                down[j] = (math.log(down[j]) + top if down[j] > 0 else -np.inf) - msg[j]
            for k in range(node_off[c], node_off[c + 1]):
                b[k] += down[s0 + cmap[k]]
        scale = total / z
        for k in range(lo, hi):
            mu[k] *= scale


@numba.njit(cache=True)
def _project(
    mu: np.ndarray, node_off: np.ndarray, meas: tuple[np.ndarray, ...], proj: np.ndarray
) -> None:
    """Every measurement's marginal of μ, into ``proj`` (flat, measurement cells).

    ``meas`` = (node of each measurement, node → measurement cell maps, their offsets,
    offsets of the measurements' cells).
    """
    meas_node, mmap, mmap_off, y_off = meas
    proj[:] = 0.0
    for m in range(meas_node.size):
        h = meas_node[m]
        lo = node_off[h]
        for k in range(lo, node_off[h + 1]):
            proj[y_off[m] + mmap[mmap_off[m] + k - lo]] += mu[k]


@numba.njit(cache=True)
def _loss(proj: np.ndarray, y: np.ndarray, weight: np.ndarray) -> float:
    out = 0.0
    for j in range(y.size):
        d = proj[j] - y[j]
        out += 0.5 * d * d * weight[j]
    return out


@numba.njit(cache=True)
def _descend(
    theta: np.ndarray,
    accumulated: np.ndarray,
    alpha: float,
    iters: int,
    tol: float,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    tree: tuple[np.ndarray, ...],
    meas: tuple[np.ndarray, ...],
) -> tuple[np.ndarray, float, int]:
    """private-pgm's mirror descent with Armijo steps; returns μ, the loss and the
    steps taken.

    ``data`` = (noisy counts, 1/σ² per cell, [total]); ``theta`` and ``accumulated`` are
    updated in place. With ``tol`` > 0 it stops early once two blocks of
    :data:`BLOCK` steps in a row each lowered the loss by at most ``tol`` of it.
    """
    y, weight, scale = data
    total = scale[0]
    node_off = tree[0]
    meas_node, mmap, mmap_off, y_off = meas
    n_sep = tree[5][-1]
    work = (np.empty_like(theta), np.empty(n_sep), np.empty(n_sep))
    mu = np.empty_like(theta)
    mu2 = np.empty_like(theta)
    theta2 = np.empty_like(theta)
    proj = np.empty_like(y)
    proj2 = np.empty_like(y)
    grad = np.empty_like(y)
    _propagate(theta, tree, total, work, mu)
    _project(mu, node_off, meas, proj)
    loss = _loss(proj, y, weight)
    block_start, stalls, done = loss, 0, 0
    for step in range(iters):
        for j in range(y.size):
            grad[j] = (proj[j] - y[j]) * weight[j]
        theta2[:] = theta
        for m in range(meas_node.size):
            h = meas_node[m]
            lo = node_off[h]
            for k in range(lo, node_off[h + 1]):
                theta2[k] -= alpha * grad[y_off[m] + mmap[mmap_off[m] + k - lo]]
        _propagate(theta2, tree, total, work, mu2)
        _project(mu2, node_off, meas, proj2)
        loss2 = _loss(proj2, y, weight)
        gain = 0.0
        for j in range(y.size):
            gain += grad[j] * (proj[j] - proj2[j])
        if loss - loss2 >= 0.5 * alpha * gain:
            theta[:] = theta2
            mu[:] = mu2
            proj[:] = proj2
            loss = loss2
            for j in range(y.size):
                accumulated[j] -= alpha * grad[j]
            alpha *= 1.01
        else:
            alpha *= 0.5
        done = step + 1
        if tol > 0.0 and done % BLOCK == 0:
            stalls = stalls + 1 if block_start - loss <= tol * max(abs(loss), 1.0) else 0
            block_start = loss
            if stalls >= 2:
                break
    return mu, loss, done


def fit(
    sizes: Sequence[int],
    nodes: Sequence[Clique],
    edges: Sequence[tuple[Clique, Clique]],
    measurements: Sequence[tuple[Clique, np.ndarray, float]],
    total: float,
    *,
    iters: int,
    warm_start: RoundModel | None = None,
    tol: float | None = None,
) -> RoundModel:
    """Fit the model of ``measurements`` (clique, noisy counts, σ) on a junction tree.

    At most ``iters`` steps; with ``tol``, fewer once the loss stops improving (two
    blocks of :data:`BLOCK` steps in a row each gaining ≤ ``tol`` × the loss).

    ``nodes``/``edges`` form a junction tree (or forest) holding every measured clique.
    ``warm_start`` is the previous round's model; its measurements must be the first
    ones of ``measurements`` (AIM only ever appends).
    """
    sizes = tuple(int(s) for s in sizes)
    tree_nodes, parents = tree_order(nodes, edges)
    parent = np.array(parents, dtype=np.int64)
    n_cells = [math.prod(sizes[a] for a in n) for n in tree_nodes]
    node_off = np.concatenate([[0], np.cumsum(n_cells)]).astype(np.int64)

    cmap = np.zeros(int(node_off[-1]), dtype=np.int64)
    pmaps, sep_sizes = [np.zeros(0, dtype=np.int64)], [0]
    for i in range(1, len(tree_nodes)):
        p = int(parent[i])
        sep = tuple(a for a in tree_nodes[i] if a in tree_nodes[p])
        cmap[node_off[i] : node_off[i + 1]] = _index_map(sizes, tree_nodes[i], sep)
        pmaps.append(_index_map(sizes, tree_nodes[p], sep))
        sep_sizes.append(math.prod(sizes[a] for a in sep))
    pmap_off = np.concatenate([[0], np.cumsum([m.size for m in pmaps])]).astype(np.int64)
    sep_off = np.concatenate([[0], np.cumsum(sep_sizes)]).astype(np.int64)
    pmap = np.concatenate(pmaps).astype(np.int64)

    meas_node, mmaps, ys, weights, accumulated = [], [], [], [], []
    previous = warm_start.accumulated if warm_start is not None else ()
    for m, (clique, noisy, sigma) in enumerate(measurements):
        cl = tuple(int(c) for c in clique)
        home = min(
            (i for i, n in enumerate(tree_nodes) if set(cl) <= set(n)),
            key=lambda i: n_cells[i],
            default=None,
        )
        if home is None:
            raise InternalError(f"No junction-tree node holds the measured clique {cl}.")
        meas_node.append(home)
        mmaps.append(_index_map(sizes, tree_nodes[home], cl))
        y = np.asarray(noisy, dtype=np.float64).ravel()
        ys.append(y)
        weights.append(np.full(y.size, 1.0 / max(float(sigma), 1e-12) ** 2))
        start = previous[m] if m < len(previous) else np.zeros(y.size)
        accumulated.append(np.array(start, dtype=np.float64))
    y_off = np.concatenate([[0], np.cumsum([y.size for y in ys])]).astype(np.int64)
    mmap_off = np.concatenate([[0], np.cumsum([mm.size for mm in mmaps])]).astype(np.int64)
    mmap = np.concatenate(mmaps).astype(np.int64) if mmaps else np.zeros(0, dtype=np.int64)
    y_all = np.concatenate(ys) if ys else np.zeros(0)
    w_all = np.concatenate(weights) if weights else np.zeros(0)
    acc_all = np.concatenate(accumulated) if accumulated else np.zeros(0)

    # θ on the nodes: every measurement's accumulated table, broadcast over its node
    theta = np.zeros(int(node_off[-1]))
    for m, home in enumerate(meas_node):
        lo, hi = node_off[home], node_off[home + 1]
        theta[lo:hi] += acc_all[y_off[m] + mmaps[m]]

    cliques = [tuple(int(c) for c in cl) for cl, _, _ in measurements]
    alpha = 2.0 / (lipschitz(sizes, cliques, [s for _, _, s in measurements]) * float(total))
    mu, loss, steps = _descend(
        theta,
        acc_all,
        alpha,
        int(iters),
        float(tol or 0.0),
        (y_all, w_all, np.array([float(total)])),
        (node_off, parent, cmap, pmap, pmap_off, sep_off),
        (np.array(meas_node, dtype=np.int64), mmap, mmap_off, y_off),
    )
    beliefs = tuple(
        mu[node_off[i] : node_off[i + 1]].reshape(tuple(sizes[a] for a in n))
        for i, n in enumerate(tree_nodes)
    )
    tree = CalibratedTree(
        sizes=sizes,
        nodes=tree_nodes,
        parent=tuple(int(p) for p in parent),
        beliefs=beliefs,
        total=float(total),
    )
    return RoundModel(
        tree=tree,
        cliques=tuple(maximal_cliques(cliques)),
        accumulated=tuple(np.split(acc_all, y_off[1:-1])),
        loss=float(loss),
        steps=int(steps),
    )
