"""AIM and MST: marginals chosen and measured adaptively, for a graphical model.

The mechanisms of McKenna et al. — "AIM: An Adaptive and Iterative Mechanism for
Differentially Private Synthetic Data" (VLDB 2022) and MST (winner of the NIST 2018
challenge, "Winning the NIST Contest", JPC 2021) — with this project's noise and books:
every Gaussian measurement is OpenDP's discrete Gaussian, every selection OpenDP's
report-noisy-max with Gumbel noise (the exponential mechanism), and every ρ they cost is
charged to a :class:`~dpshowcase.privacy.accounting.RhoAccount` opened with the ρ that
:func:`~dpshowcase.privacy.accounting.plan_marginal_model_budget` derives from (ε, δ).

Both start as the aggregate-seeded release does: the record count with ε_N, then every
column's 1-way marginal over the values seen in the data, with a threshold so that a
value held by a single record is kept with probability at most δ/2. Values under the
threshold are suppressed: their records count as "no value" in that column from then on.
A column whose values the schema declares — ``categories`` from public knowledge, or a
numeric column's bin edges — has a public domain: all its values are kept, with no
threshold, and it has a "no value" cell only when the schema says it may be empty.

The record count: with δ given (``record_count_from_marginals``, which a release sets
for AIM and MST when δ is given and the count is not public) it has no budget of its
own: it is estimated from the noisy 1-way marginals (:func:`estimate_total`, as AIM's
reference code estimates the model's total), and all of ε goes to the marginals. An
inferred δ needs the count first, so it is then drawn with ε_N as above.

AIM (defaults as in the paper and its reference code): workload = every R-way marginal
(R = reporting length, 3 by default), candidates = every marginal of ≤ R columns weighted
by its overlap with the workload; σ = √(T / (2·0.9·ρ)) and ε_s = √(8·0.1·ρ / T) with
T = 16·d rounds; each round selects the candidate whose model error most exceeds the
noise it would bring (quality w_r·(‖M_r(D) − M_r(p̂)‖₁ − √(2/π)·σ·n_r), sensitivity
max w_r), among those that keep the model under a size cap that grows with the budget
spent (80 MB at the end), measures it, re-estimates the model, and halves σ (doubling
ε_s) when the new measurement barely moved the model. When what is left cannot pay two
more rounds, the last round spends it all.

MST: a third of ρ for the 1-way marginals, a third for d − 1 exponential-mechanism
selections of the edges of a maximum spanning tree (weight: L1 error of the independent
model on each pair), a third for measuring the selected pairs.

Only :class:`MarginalMeasurements` leaves this module: the noisy marginals, the released
values of every column and the protected record count. The graphical model is estimated
from them alone (:mod:`dpshowcase.privacy.graphical`), inside the loop as AIM requires —
post-processing of earlier measurements — and at the end for sampling records
(:mod:`dpshowcase.synthesize.pgm`), whose counts the measurements then issue as the
release's protected aggregates (:meth:`MarginalMeasurements.issue_aggregates`).

Like :class:`~dpshowcase.aggregate.protected.ProtectedAggregates`, the measurements are
a type at the privacy boundary: calling the class (or ``dataclasses.replace``) raises
``TypeError``; only a mechanism run of this module makes them
(``tests/unit/aggregate/test_protected.py`` checks).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import InitVar, dataclass, field
from typing import Any, Literal

import numpy as np

from dpshowcase.aggregate.count import CombinationCounts
from dpshowcase.aggregate.protected import ProtectedAggregates, issue_protected
from dpshowcase.data.encode import SensitiveData
from dpshowcase.errors import InternalError, ParameterError
from dpshowcase.privacy import graphical
from dpshowcase.privacy.accounting import (
    DpParameters,
    MarginalModelBudget,
    RhoAccount,
    gaussian_rho,
    plan_marginal_model_budget,
    selection_rho,
    value_threshold,
)
from dpshowcase.privacy.graphical import Measurement
from dpshowcase.privacy.noise import NoiseSource, laplace_count, noise_source
from dpshowcase.privacy.tree_inference import CalibratedTree
from dpshowcase.progress import Progress
from dpshowcase.schema.model import ColumnSpec, Schema

__all__ = [
    "MAX_MODEL_SIZE_MB",
    "AimMechanism",
    "MarginalMeasurements",
    "Measurement",
    "MstMechanism",
    "estimate_total",
]

MAX_MODEL_SIZE_MB = 80.0
"""AIM's cap on the graphical model (junction-tree cells × 8 bytes), as in the paper."""
ROUNDS_PER_COLUMN = 16
"""AIM's default number of rounds T = 16·d."""
GAUSSIAN_SHARE = 0.9
"""AIM: share of each round's ρ for the measurement (the rest selects)."""
ROUND_TOLERANCE = 1e-3
"""Early stop of each round's (warm-started) estimation: two blocks of 50 steps in a row
gaining ≤ 0.1 % of the loss. On ma2019 it stopped after 350–450 of the 1000 steps with the
new measurement's marginal within 3 % of where 1000 steps put it (AIM's "did it move the
model?" test unchanged); k-marginal on national2019 (ε = 1, seeds 1 and 2) 969 and 972
against 971 and 972 with all 1000 steps. The final model always runs all its steps."""

Clique = tuple[int, ...]

_MEASURED = object()
"""Held by this module only: proof that an AIM or MST run made the measurements."""


@dataclass(frozen=True, eq=False)
class MarginalMeasurements:
    """The protected output of AIM or MST: all that the model-based synthesizer reads."""

    schema: Schema
    columns: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]
    """Per column, the value of each code; "" (no value, or a suppressed one) is code 0
    when the column's domain has it (see :func:`_has_empty_cell`)."""
    measurements: tuple[Measurement, ...]
    record_count: int
    """The protected (or declared public) record count: drawn with ε_N, or estimated
    from the noisy 1-way marginals."""
    budget: MarginalModelBudget
    account: RhoAccount
    synthesizer: Literal["aim", "mst"]
    settings: dict[str, Any] = field(default_factory=dict)
    suppressed_values: dict[str, int] = field(default_factory=dict)
    """Per column: how many values seen in the data fell under the threshold."""
    private: bool = True
    """False when the noise was seeded: NOT for release."""
    issued: InitVar[object] = None
    """The mechanism's proof of origin (see :data:`_MEASURED`); not stored."""

    def __post_init__(self, issued: object) -> None:
        if issued is not _MEASURED:
            raise TypeError(
                "MarginalMeasurements come only out of a protection mechanism "
                "(AimMechanism.fit, MstMechanism.fit)."
            )

    @property
    def sizes(self) -> tuple[int, ...]:
        """Codes per column (released values, + 1 for "no value" where it is a cell)."""
        return tuple(len(v) for v in self.values)

    @property
    def guarantee(self) -> str:
        """The guarantee in one sentence."""
        return self.budget.guarantee

    def issue_aggregates(
        self, counts: CombinationCounts, parameters: dict[str, Any]
    ) -> ProtectedAggregates:
        """The published aggregates: ``counts`` computed from these measurements alone.

        The caller (the model-based synthesizer) vouches that ``counts`` come from the
        graphical model of these measurements — post-processing, so the guarantee of
        the measurements covers them. No per-length noise applies (noise=None): the
        marginals' noise is listed in ``parameters``.
        """
        return issue_protected(
            counts=counts,
            record_count=self.record_count,
            mode="dp",
            guarantee=self.guarantee,
            parameters=parameters,
            private=self.private,
        )

    def parameters(self) -> dict[str, Any]:
        """Everything about the release's privacy and measurements, for parameters.json."""
        out = self.budget.to_dict(self.account)
        out["synthesizer"] = self.synthesizer
        out["settings"] = dict(self.settings)
        out["measured_marginals"] = [
            {"columns": [self.columns[c] for c in m.clique], "sigma": m.sigma}
            for m in self.measurements
        ]
        out["suppressed_values"] = dict(self.suppressed_values)
        return out


# --------------------------------------------------------------------------------------
# Shared steps
# --------------------------------------------------------------------------------------


def _has_empty_cell(spec: ColumnSpec) -> bool:
    """Whether a column's domain holds code 0, "no value": always, unless its values are
    public (declared categories or bins) and the schema says it is never empty — a
    learnt domain needs the cell for the records of suppressed values."""
    return not (spec.public_domain and not spec.can_be_empty)


def _column_codes(data: SensitiveData) -> tuple[np.ndarray, tuple[int, ...], tuple[bool, ...]]:
    """Codes (columns × records) and whether each column has the "no value" code 0.

    With it, 0 = no value and j ≥ 1 = the column's j-th attribute; without it (a public,
    never-empty domain), j ≥ 0 = the (j+1)-th attribute.
    """
    attributes = data.attributes
    if any(attributes.multi_value):
        column = attributes.columns[attributes.multi_value.index(True)]
        raise ParameterError(
            f"The column {column!r} is multi-valued; AIM and MST model one value per column "
            "per record. Use the aggregate-seeded synthesizer, or split the column."
        )
    empty = tuple(_has_empty_cell(spec) for spec in data.schema.columns)
    offsets = attributes.column_offsets
    n_columns = len(attributes.columns)
    shift = np.array([1 if e else 0 for e in empty], dtype=np.int64)
    codes = np.full((n_columns, data.n_records), -1, dtype=np.int64)
    codes[shift == 1] = 0
    rows = np.repeat(np.arange(data.n_records), np.diff(data.indptr))
    ids = data.indices.astype(np.int64)
    columns = attributes.attribute_column[ids].astype(np.int64)
    codes[columns, rows] = ids - offsets[columns] + shift[columns]
    for c in np.flatnonzero((codes < 0).any(axis=1)):
        raise ParameterError(
            f"The column {attributes.columns[c]!r} has records without a value but the schema "
            "says it is never empty; set may_be_empty = true for it."
        )
    sizes = tuple(int(offsets[c + 1] - offsets[c] + shift[c]) for c in range(n_columns))
    return codes, sizes, empty


def estimate_total(measurements: list[Measurement]) -> float:
    """The record count estimated from noisy 1-way marginals (post-processing).

    Each 1-way marginal sums to the record count plus the noise of its cells; the
    estimate is the mean of those totals weighted by the inverse of their variance
    σ²·cells (private-pgm's ``minimum_variance_unbiased_total``, as AIM's reference
    code estimates the total). Any fixed weights leave it unbiased.
    """
    if not measurements:
        raise ParameterError("The record count needs at least one measured marginal.")
    totals = np.array([float(np.sum(m.noisy)) for m in measurements])
    weights = np.array([1.0 / (m.sigma * m.sigma * m.noisy.size) for m in measurements])
    return float(np.average(totals, weights=weights))


def _marginal(codes: np.ndarray, sizes: tuple[int, ...], clique: Clique) -> np.ndarray:
    """Exact counts of every cell of ``clique`` (C order)."""
    shape = tuple(sizes[c] for c in clique)
    flat = np.ravel_multi_index(tuple(codes[c] for c in clique), shape)
    return np.bincount(flat, minlength=math.prod(shape)).astype(np.float64)


class _Run:
    """The state one mechanism run shares: data codes, noise, account and measurements."""

    def __init__(
        self,
        data: SensitiveData,
        params: DpParameters,
        synthesizer: Literal["aim", "mst"],
        noise: NoiseSource,
        progress: Progress | None,
    ) -> None:
        self.progress = progress or (lambda _stage, _done, _total: None)
        self.noise = noise
        self.synthesizer = synthesizer
        self.columns = tuple(data.attributes.columns)
        self.schema = data.schema
        full_codes, full_sizes, empty = _column_codes(data)
        self.full_codes, self.full_sizes, self.empty = full_codes, full_sizes, empty
        self.labels = [
            ("",) * empty[i]
            + tuple(data.attributes.attribute_value[a] for a in data.attributes.attributes_of(c))
            for i, c in enumerate(self.columns)
        ]
        self.params = params
        self._record_count: int | None = None
        if params.record_count_public is not None:
            self._record_count = int(params.record_count_public)
        elif not params.record_count_from_marginals:
            self.progress("Protecting: the record count", 0, 1)
            self._record_count = laplace_count(
                data.n_records, params.record_count_epsilon, source=noise
            )
        # else: estimated from the 1-way marginals (one_way), with no budget of its own
        self.budget = plan_marginal_model_budget(params, synthesizer, self._record_count)
        self.account = RhoAccount(self.budget.rho)
        self.measurements: list[Measurement] = []
        self.codes = full_codes
        self.sizes = full_sizes
        self.values: tuple[tuple[str, ...], ...] = ()
        self.suppressed: dict[str, int] = {}

    @property
    def record_count(self) -> int:
        """The protected (or public) record count; known once the 1-way marginals are."""
        if self._record_count is None:
            raise InternalError("the record count is estimated from the 1-way marginals first.")
        return self._record_count

    def measure(self, clique: Clique, sigma: float, what: str) -> Measurement:
        """Charge, then measure one marginal with discrete Gaussian noise of scale σ."""
        self.account.charge(what, gaussian_rho(sigma))
        exact = _marginal(self.codes, self.sizes, clique).astype(np.int64)
        noisy = self.noise.add_discrete_gaussian(exact, sigma).astype(np.float64)
        measurement = Measurement(clique=clique, noisy=noisy, sigma=sigma)
        self.measurements.append(measurement)
        return measurement

    def select(self, scores: np.ndarray, sensitivity: float, epsilon: float, what: str) -> int:
        """Charge, then pick an index with the exponential mechanism (OpenDP noisy max)."""
        self.account.charge(what, selection_rho(epsilon))
        return self.noise.select_noisy_max(scores, sensitivity, epsilon)

    def one_way(self, sigma: float) -> None:
        """Measure every column's values seen in the data, keep those above the threshold.

        The d 1-way marginals together have L2 sensitivity √d: ρ = d/(2σ²). A value
        whose noisy count is not above :func:`value_threshold` is suppressed; its
        records hold no value in that column from here on ("no value" is in every
        learnt domain: it is not learnt from the data). A column with a public domain
        (declared categories, or numeric bins) keeps all its values, and has the "no
        value" cell only when the schema says it may be empty. When the record count
        has no budget of its own, it is estimated here from these marginals.
        """
        d = len(self.columns)
        self.account.charge("1-way marginals (value discovery)", gaussian_rho(sigma, math.sqrt(d)))
        public = {i for i, spec in enumerate(self.schema.columns) if spec.public_domain}
        learnt = max(d - len(public), 1)
        threshold = value_threshold(sigma, learnt, self.budget.delta_threshold)
        codes = np.empty_like(self.full_codes)
        values, sizes, noisy_one_way = [], [], []
        for c, name in enumerate(self.columns):
            self.progress("Protecting: values of each column", c, d)
            exact = np.bincount(self.full_codes[c], minlength=self.full_sizes[c])
            noisy = self.noise.add_discrete_gaussian(exact.astype(np.int64), sigma)
            keep = noisy > threshold
            if c in public:
                keep[:] = True
            else:
                keep[0] = True  # "no value" (and every suppressed value) is code 0
            new_code = np.zeros(self.full_sizes[c], dtype=np.int64)
            new_code[keep] = np.arange(int(keep.sum()))
            codes[c] = new_code[self.full_codes[c]]
            merged = np.zeros(int(keep.sum()), dtype=np.float64)
            np.add.at(merged, new_code, noisy.astype(np.float64))  # suppressed → code 0
            values.append(tuple(self.labels[c][j] for j in np.flatnonzero(keep)))
            sizes.append(int(keep.sum()))
            noisy_one_way.append(merged)
            self.suppressed[name] = int((~keep).sum())
        self.codes, self.sizes, self.values = codes, tuple(sizes), tuple(values)
        del self.full_codes  # from here on only the thresholded codes are read
        for c, vector in enumerate(noisy_one_way):
            self.measurements.append(Measurement(clique=(c,), noisy=vector, sigma=sigma))
        if self._record_count is None:
            self._record_count = max(0, round(estimate_total(self.measurements)))
            self.budget = self.budget.with_estimated_count(
                self._record_count, allow_large_delta=self.params.allow_large_delta
            )

    def result(self, private: bool, settings: dict[str, Any]) -> MarginalMeasurements:
        return MarginalMeasurements(
            schema=self.schema,
            columns=self.columns,
            values=self.values,
            measurements=tuple(self.measurements),
            record_count=self.record_count,
            budget=self.budget,
            account=self.account,
            synthesizer=self.synthesizer,
            settings=settings,
            suppressed_values=self.suppressed,
            private=private,
            issued=_MEASURED,
        )


# --------------------------------------------------------------------------------------
# AIM
# --------------------------------------------------------------------------------------


def _candidates(n_columns: int, reporting_length: int) -> dict[Clique, float]:
    """AIM's candidates: every marginal of ≤ R columns, weighted by its overlap with the
    workload of all R-way marginals (w_r = Σ_{s ∈ W} |r ∩ s|)."""
    r = min(reporting_length, n_columns)
    out: dict[Clique, float] = {}
    for k in range(1, r + 1):
        # |r ∩ s| summed over all R-subsets s: each column of r lies in C(d−1, R−1) of them
        weight = float(k * math.comb(n_columns - 1, r - 1))
        for clique in itertools.combinations(range(n_columns), k):
            out[clique] = weight
    return out


@dataclass
class AimMechanism:
    """AIM with OpenDP noise and this project's accounting (see the module docstring)."""

    params: DpParameters
    rounds: int | None = None
    """T; default 16·d."""
    max_model_size: float = MAX_MODEL_SIZE_MB
    """Model size cap in MB (junction-tree cells × 8 bytes)."""
    estimation_iters: int = 1000
    """Mirror-descent iterations of the model after each round, warm-started (AIM's
    1000: fewer leave the model short of what the new measurement says, which AIM then
    reads as "nothing learnt" and anneals the budget away)."""
    estimation_tol: float | None = ROUND_TOLERANCE
    """Stop a round's estimation early once two blocks of 50 steps in a row each
    lowered the loss by at most this share of it (None: all ``estimation_iters``)."""
    seed: int | None = None
    """Seeded noise for tests and demos: NOT for release."""

    def fit(self, data: SensitiveData, progress: Progress | None = None) -> MarginalMeasurements:
        """Run AIM on ``data``; return only the protected measurements."""
        noise = noise_source(self.seed)
        run = _Run(data, self.params, "aim", noise, progress)
        d = len(run.columns)
        if d < 1:
            raise ParameterError("AIM needs at least one column.")
        rho = run.budget.rho
        rounds = self.rounds or ROUNDS_PER_COLUMN * d
        if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < d + 1:
            raise ParameterError(f"AIM needs more rounds than columns, got {rounds!r}.")
        sigma = math.sqrt(rounds / (2.0 * GAUSSIAN_SHARE * rho))
        epsilon = math.sqrt(8.0 * (1.0 - GAUSSIAN_SHARE) * rho / rounds)
        run.one_way(sigma)
        sizes = run.sizes
        candidates = _candidates(d, self.params.reporting_length)
        answers = {cl: _marginal(run.codes, sizes, cl) for cl in candidates}
        total = float(max(run.record_count, 1))
        model = graphical.fit_round(sizes, run.measurements, total, iters=self.estimation_iters)
        steps = [model.steps]
        terminate, t = False, 0
        while not terminate:
            t += 1
            remaining = rho - run.account.spent
            if remaining < 2.0 * (gaussian_rho(sigma) + selection_rho(epsilon)):
                # the last round spends what is left (AIM's budget annealing)
                sigma = math.sqrt(1.0 / (2.0 * GAUSSIAN_SHARE * remaining * (1 - 1e-9)))
                epsilon = math.sqrt(8.0 * (1.0 - GAUSSIAN_SHARE) * remaining * (1 - 1e-9))
                terminate = True
            spent_after = run.account.spent + gaussian_rho(sigma) + selection_rho(epsilon)
            run.progress("Protecting: AIM rounds", min(int(100 * spent_after / rho), 99), 100)
            limit = self.max_model_size * spent_after / rho
            allowed = graphical.within_size(sizes, model.cliques, list(candidates), limit)
            chosen = self._worst(run, allowed, candidates, answers, model.tree, sigma, epsilon, t)
            before = model.tree.marginal(chosen)
            run.measure(chosen, sigma, f"round {t}: measure {chosen}")
            model = graphical.fit_round(
                sizes,
                run.measurements,
                total,
                iters=self.estimation_iters,
                warm_start=model,
                tol=self.estimation_tol,
            )
            steps.append(model.steps)
            after = model.tree.marginal(chosen)
            n_cells = float(after.size)
            moved = float(np.abs(after - before).sum())
            if not terminate and moved <= sigma * math.sqrt(2 / math.pi) * n_cells:
                sigma /= 2.0  # the measurement barely moved the model: spend more per round
                epsilon *= 2.0
        run.progress("Protecting: AIM rounds", 100, 100)
        return run.result(
            private=noise.private,
            settings={
                "rounds_planned": rounds,
                "rounds_run": t,
                "workload": f"all {min(self.params.reporting_length, d)}-way marginals",
                "max_model_size_mb": self.max_model_size,
                "estimation_iters_per_round": self.estimation_iters,
                "estimation_tol_per_round": self.estimation_tol,
                "estimation_steps_run": sum(steps),
                "gaussian_share": GAUSSIAN_SHARE,
            },
        )

    @staticmethod
    def _worst(
        run: _Run,
        allowed: list[Clique],
        weights: dict[Clique, float],
        answers: dict[Clique, np.ndarray],
        tree: CalibratedTree,
        sigma: float,
        epsilon: float,
        t: int,
    ) -> Clique:
        """Exponential mechanism over ``allowed`` with AIM's quality score."""
        estimates = {cl: tree.marginal(cl) for cl in allowed}
        bias = math.sqrt(2.0 / math.pi) * sigma
        scores = np.array(
            [
                weights[cl] * (np.abs(answers[cl] - estimates[cl]).sum() - bias * answers[cl].size)
                for cl in allowed
            ]
        )
        sensitivity = max(weights[cl] for cl in allowed)
        index = run.select(scores, sensitivity, epsilon, f"round {t}: select")
        return allowed[index]


# --------------------------------------------------------------------------------------
# MST
# --------------------------------------------------------------------------------------


@dataclass
class MstMechanism:
    """MST with OpenDP noise and this project's accounting (see the module docstring)."""

    params: DpParameters
    estimation_iters: int = 1000
    seed: int | None = None

    def fit(self, data: SensitiveData, progress: Progress | None = None) -> MarginalMeasurements:
        """Run MST on ``data``; return only the protected measurements."""
        noise = noise_source(self.seed)
        run = _Run(data, self.params, "mst", noise, progress)
        d = len(run.columns)
        rho = run.budget.rho
        sigma_one = math.sqrt(d / (2.0 * rho / 3.0))  # ρ/3 for the d 1-way marginals
        run.one_way(sigma_one)
        sizes = run.sizes
        edges: list[Clique] = []
        if d >= 2:
            total = float(max(run.record_count, 1))
            model = graphical.fit_round(sizes, run.measurements, total, iters=self.estimation_iters)
            pairs = list(itertools.combinations(range(d), 2))
            estimates = {p: model.tree.marginal(p) for p in pairs}
            weights = {
                p: float(np.abs(_marginal(run.codes, sizes, p) - estimates[p]).sum()) for p in pairs
            }
            # Kruskal with the exponential mechanism choosing each edge among those that
            # join two components (MST's reference code): d − 1 selections, ρ/3 in all
            epsilon = math.sqrt(8.0 * (rho / 3.0) / (d - 1)) * (1 - 1e-12)
            component = list(range(d))

            def root(i: int) -> int:
                while component[i] != i:
                    component[i] = component[component[i]]
                    i = component[i]
                return i

            for step in range(d - 1):
                run.progress("Protecting: MST edges", step, d - 1)
                open_pairs = [p for p in pairs if root(p[0]) != root(p[1])]
                scores = np.array([weights[p] for p in open_pairs])
                # L1 error of one pair moves by ≤ 1 when one record is added or removed
                chosen = open_pairs[run.select(scores, 1.0, epsilon, f"edge {step + 1}")]
                component[root(chosen[0])] = root(chosen[1])
                edges.append(chosen)
            sigma_two = math.sqrt((d - 1) / (2.0 * rho / 3.0)) * (1 + 1e-12)
            for edge in edges:
                run.measure(edge, sigma_two, f"measure edge {edge}")
        return run.result(
            private=noise.private,
            settings={"edges": [[run.columns[c] for c in e] for e in edges]},
        )
