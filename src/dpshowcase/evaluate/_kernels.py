"""Compiled loops of the evaluation (numba): marginal distances, the discriminator,
nearest-record distances. Inputs are record codes (see :mod:`._space`)."""

from __future__ import annotations

import numba
import numpy as np

DENSE_CELLS = 1 << 22
"""Marginals with at most this many cells are tabulated densely; larger ones by sorting."""
LANES = 4
"""Interleaved copies of each counter: most records fall in a few cells (flags are
mostly empty), and incrementing one memory cell again and again serialises the loop;
consecutive records go to different copies instead."""


@numba.njit(cache=True, nogil=True)
def _cell_keys(codes: np.ndarray, card: np.ndarray, subset: np.ndarray) -> np.ndarray:
    n = codes.shape[1]
    keys = np.zeros(n, dtype=np.int64)
    for j in range(subset.size):
        c = subset[j]
        stride = card[c]
        column = codes[c]
        for r in range(n):
            keys[r] = keys[r] * stride + column[r]
    return keys


@numba.njit(cache=True, nogil=True)
def _sparse_l1(a: np.ndarray, b: np.ndarray, na: float, nb: float) -> float:
    """Σ|p − q| over cells, from two sorted key arrays."""
    total = 0.0
    i = 0
    j = 0
    while i < a.size or j < b.size:
        key = a[i] if j >= b.size or (i < a.size and a[i] < b[j]) else b[j]
        ca = 0
        while i < a.size and a[i] == key:
            ca += 1
            i += 1
        cb = 0
        while j < b.size and b[j] == key:
            cb += 1
            j += 1
        total += abs(ca / na - cb / nb)
    return total


@numba.njit(parallel=True, cache=True)
def marginal_l1(
    codes_a: np.ndarray,
    codes_b: np.ndarray,
    card: np.ndarray,
    subsets: np.ndarray,
    chunks: int,
    dense_cells: int,
) -> np.ndarray:
    """For each row of ``subsets`` (record-column indices), Σ_cells |p_a − p_b|.

    ``codes_*`` have shape (columns, records); p are relative frequencies of the cells
    of the marginal over the subset's columns (code 0, absence, is a value like any).
    """
    m = subsets.shape[0]
    out = np.zeros(m, dtype=np.float64)
    for chunk in numba.prange(chunks):
        biggest = 1
        for s in range(chunk, m, chunks):
            size = _size(card, subsets[s])
            if size <= dense_cells and size > biggest:
                biggest = size
        pa = np.zeros(LANES * biggest, dtype=np.int32)
        pb = np.zeros(LANES * biggest, dtype=np.int32)
        for s in range(chunk, m, chunks):
            out[s] = _one_marginal(codes_a, codes_b, card, subsets[s], pa, pb, dense_cells)
    return out


@numba.njit(parallel=True, cache=True)
def triple_l1(
    codes_a: np.ndarray,
    codes_b: np.ndarray,
    card: np.ndarray,
    pairs: np.ndarray,
    first_triple: np.ndarray,
    chunks: int,
    dense_cells: int,
) -> np.ndarray:
    """Σ_cells |p_a − p_b| of every 3-way marginal, in lexicographic order.

    For each pair (i, j) of ``pairs`` the pair's cell code is computed once and reused
    for every third column t > j; triple (i, j, t) is written at
    ``first_triple[pair] + t − j − 1``.
    """
    n_columns = card.size
    n_pairs = pairs.shape[0]
    out = np.zeros(first_triple[n_pairs], dtype=np.float64)
    na = codes_a.shape[1]
    nb = codes_b.shape[1]
    for chunk in numba.prange(chunks):
        biggest = 1
        for p in range(chunk, n_pairs, chunks):
            i, j = pairs[p, 0], pairs[p, 1]
            for third in range(j + 1, n_columns):
                size = card[i] * card[j] * card[third]
                if size <= dense_cells and size > biggest:
                    biggest = size
        ca = np.zeros(LANES * biggest, dtype=np.int32)
        cb = np.zeros(LANES * biggest, dtype=np.int32)
        key_a = np.zeros(na, dtype=np.int64)
        key_b = np.zeros(nb, dtype=np.int64)
        subset = np.zeros(3, dtype=np.int64)
        for p in range(chunk, n_pairs, chunks):
            i, j = pairs[p, 0], pairs[p, 1]
            ci, cj = codes_a[i], codes_a[j]
            for r in range(na):
                key_a[r] = ci[r] * card[j] + cj[r]
            ci, cj = codes_b[i], codes_b[j]
            for r in range(nb):
                key_b[r] = ci[r] * card[j] + cj[r]
            for third in range(j + 1, n_columns):
                at = first_triple[p] + third - j - 1
                size = card[i] * card[j] * card[third]
                if size > dense_cells:
                    subset[0], subset[1], subset[2] = i, j, third
                    out[at] = _one_marginal(codes_a, codes_b, card, subset, ca, cb, dense_cells)
                    continue
                ca[: LANES * size] = 0
                cb[: LANES * size] = 0
                stride = card[third]
                cl = codes_a[third]
                for r in range(na):
                    ca[(key_a[r] * stride + cl[r]) * LANES + (r & (LANES - 1))] += 1
                cl = codes_b[third]
                for r in range(nb):
                    cb[(key_b[r] * stride + cl[r]) * LANES + (r & (LANES - 1))] += 1
                out[at] = _lane_l1(ca, cb, size, na, nb)
    return out


@numba.njit(cache=True, nogil=True)
def _lane_l1(ca: np.ndarray, cb: np.ndarray, size: int, na: int, nb: int) -> float:
    """Σ_cells |a/na − b/nb| from counters spread over LANES interleaved copies."""
    total = 0.0
    for cell in range(size):
        x = 0
        y = 0
        for lane in range(LANES):
            x += ca[cell * LANES + lane]
            y += cb[cell * LANES + lane]
        total += abs(x / na - y / nb)
    return total


@numba.njit(cache=True, nogil=True)
def _size(card: np.ndarray, subset: np.ndarray) -> int:
    size = 1
    for j in range(subset.size):
        size *= card[subset[j]]
    return size


@numba.njit(cache=True, nogil=True)
def _one_marginal(
    codes_a: np.ndarray,
    codes_b: np.ndarray,
    card: np.ndarray,
    subset: np.ndarray,
    pa: np.ndarray,
    pb: np.ndarray,
    dense_cells: int,
) -> float:
    na = float(codes_a.shape[1])
    nb = float(codes_b.shape[1])
    size = _size(card, subset)
    if size > dense_cells:
        ka = np.sort(_cell_keys(codes_a, card, subset))
        kb = np.sort(_cell_keys(codes_b, card, subset))
        return _sparse_l1(ka, kb, na, nb)
    pa[: LANES * size] = 0
    pb[: LANES * size] = 0
    _tabulate(codes_a, card, subset, pa)
    _tabulate(codes_b, card, subset, pb)
    return _lane_l1(pa, pb, size, codes_a.shape[1], codes_b.shape[1])


@numba.njit(cache=True, nogil=True)
def _tabulate(codes: np.ndarray, card: np.ndarray, subset: np.ndarray, into: np.ndarray) -> None:
    """Count records per cell of the marginal over ``subset`` into LANES-wide counters."""
    n = codes.shape[1]
    k = subset.size
    mask = LANES - 1
    if k == 1:
        c0 = codes[subset[0]]
        for r in range(n):
            into[np.int64(c0[r]) * LANES + (r & mask)] += 1
    elif k == 2:
        c0 = codes[subset[0]]
        c1 = codes[subset[1]]
        s1 = card[subset[1]]
        for r in range(n):
            into[(c0[r] * s1 + c1[r]) * LANES + (r & mask)] += 1
    else:
        keys = _cell_keys(codes, card, subset)
        for r in range(n):
            into[keys[r] * LANES + (r & mask)] += 1


# --- the discriminator: logistic regression on one-hot main effects and pairs ------------


@numba.njit(cache=True, nogil=True)
def _features(
    row: np.ndarray,
    card: np.ndarray,
    main_offset: np.ndarray,
    pair_i: np.ndarray,
    pair_j: np.ndarray,
    pair_offset: np.ndarray,
    dims: int,
    out: np.ndarray,
) -> None:
    c = card.size
    for j in range(c):
        out[j] = main_offset[j] + row[j]
    for p in range(pair_i.size):
        i = pair_i[p]
        j = pair_j[p]
        out[c + p] = (pair_offset[p] + row[i] * card[j] + row[j]) % dims


@numba.njit(cache=True, nogil=True)
def logistic_fit(
    rows: np.ndarray,
    labels: np.ndarray,
    card: np.ndarray,
    main_offset: np.ndarray,
    pair_i: np.ndarray,
    pair_j: np.ndarray,
    pair_offset: np.ndarray,
    dims: int,
    epochs: int,
    learning_rate: float,
    l2: float,
    seed: int,
) -> np.ndarray:
    """Weights (bias last) of an L2-regularised logistic regression fitted by SGD.

    ``rows`` has shape (records, columns); features are the one-hot codes of every
    column and of every pair of columns (hashed into ``dims`` when there are more).
    """
    np.random.seed(seed)
    n = rows.shape[0]
    weights = np.zeros(dims + 1, dtype=np.float64)
    feats = np.zeros(card.size + pair_i.size, dtype=np.int64)
    order = np.arange(n)
    step = 0
    active = card.size + pair_i.size
    for epoch in range(epochs):
        np.random.shuffle(order)
        # a step moves the logit by about rate × (active features): scale it down
        rate = learning_rate / np.sqrt(1.0 + epoch) / active
        for t in range(n):
            r = order[t]
            _features(rows[r], card, main_offset, pair_i, pair_j, pair_offset, dims, feats)
            z = weights[dims]
            for f in feats:
                z += weights[f]
            p = 1.0 / (1.0 + np.exp(-z)) if z > -30.0 else 0.0
            g = p - labels[r]
            weights[dims] -= rate * g
            for f in feats:
                weights[f] -= rate * (g + l2 * weights[f])
            step += 1
    return weights


@numba.njit(parallel=True, cache=True)
def logistic_predict(
    rows: np.ndarray,
    weights: np.ndarray,
    card: np.ndarray,
    main_offset: np.ndarray,
    pair_i: np.ndarray,
    pair_j: np.ndarray,
    pair_offset: np.ndarray,
    dims: int,
) -> np.ndarray:
    """Predicted probabilities of label 1 for every row."""
    n = rows.shape[0]
    out = np.zeros(n, dtype=np.float64)
    for r in numba.prange(n):
        feats = np.zeros(card.size + pair_i.size, dtype=np.int64)
        _features(rows[r], card, main_offset, pair_i, pair_j, pair_offset, dims, feats)
        z = weights[dims]
        for f in feats:
            z += weights[f]
        out[r] = 1.0 / (1.0 + np.exp(-z)) if z > -30.0 else 0.0
    return out


# --- distance to the closest record --------------------------------------------------


@numba.njit(parallel=True, cache=True)
def nearest_hamming(
    queries: np.ndarray, refs: np.ndarray, skip: np.ndarray, floor: int
) -> np.ndarray:
    """For each query row, the fewest columns in which it differs from a row of ``refs``.

    ``skip[q]`` is a row of ``refs`` not to compare query ``q`` with (−1: none); a
    query with no other row to compare with gets the number of columns. The search of
    a query stops once a row at distance ``floor`` is found (the caller knows none is
    closer: 1 when no row of ``refs`` is identical to the query).
    """
    nq = queries.shape[0]
    nr = refs.shape[0]
    c = queries.shape[1]
    out = np.full(nq, c, dtype=np.int32)
    for q in numba.prange(nq):
        best = c
        row = queries[q]
        for r in range(nr):
            if r == skip[q]:
                continue
            other = refs[r]
            d = 0
            for j in range(c):
                if row[j] != other[j]:
                    d += 1
                    if d >= best:
                        break
            if d < best:
                best = d
                if best <= floor:
                    break
        out[q] = best
    return out
