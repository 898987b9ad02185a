"""The release pipeline's hook into the ledger: withdrawals, reservation, commit.

A release of a lineage goes, in this order:

1. read the data and drop every withdrawn subject (before anything is counted);
2. reserve the budget in the ledger (refused, with nothing written, over the cap);
3. protect and synthesize (noise is drawn only now), build the bundle in a temporary
   folder, with a datasheet that states the lineage's cumulative loss including itself;
4. commit the ledger entry with the bundle's checksum;
5. rename the bundle into place.

A failure in 3-4 marks the entry failed; a crash leaves it reserved until the next run
marks it "failed (interrupted)" (see :mod:`dpshowcase.ledger.store`). Either way the
budget keeps counting, and no bundle exists without its committed entry.

``DPSHOWCASE_LEDGER_CRASH_AT`` ("reserved" or "committed") makes the process kill itself
at that point: a test hook to prove the ledger stays consistent. Never set it otherwise.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from dpshowcase.errors import InternalError, ParameterError
from dpshowcase.ledger.composition import COMPOSITION_RULE, ReleaseLoss
from dpshowcase.ledger.model import DP_KINDS
from dpshowcase.ledger.store import (
    Ledger,
    LineageState,
    bundle_checksum,
    check_lineage_name,
    now,
)
from dpshowcase.ledger.withdrawal import without_withdrawn
from dpshowcase.privacy.accounting import BudgetPlan, DpParameters, plan_budget

__all__ = ["CRASH_ENV", "LineageRecorder"]

CRASH_ENV = "DPSHOWCASE_LEDGER_CRASH_AT"


def _crash_point(name: str) -> None:
    """Die here, without any clean-up, when the test hook asks for it."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _when(moment: dt.datetime | None) -> str:
    return "—" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass
class _Reservation:
    entry_id: int
    kind: str
    created: dt.datetime
    state: LineageState
    loss: ReleaseLoss | None


class LineageRecorder:
    """Records one release of a lineage; use it as a context manager around the release."""

    def __init__(
        self,
        lineage: str,
        *,
        ledger: Path | None,
        id_column: str | None,
        source: str,
        output: Path,
    ) -> None:
        self.lineage = check_lineage_name(lineage)
        self.id_column = id_column
        self.source = source
        self.output = Path(output)
        self.ledger = Ledger.open(ledger)
        self._honoured_at: dt.datetime | None = None
        self._reservation: _Reservation | None = None

    def close(self) -> None:
        """Release the ledger file."""
        self.ledger.close()

    # 1. withdrawals ------------------------------------------------------------------

    def drop_withdrawn(self, frame: pl.DataFrame, subject_id: str | None) -> pl.DataFrame:
        """``frame`` without the rows of withdrawn subjects (and without a bare id column).

        The ids are matched in ``--id-column`` if given, else in the schema's subject id.
        """
        self._honoured_at = now()
        key, hashes, _ = self.ledger.withdrawn(self.lineage)
        column = self.id_column or subject_id
        if hashes:
            if column is None:
                raise ParameterError(
                    f"Lineage {self.lineage!r} has withdrawal requests, so a release must name "
                    "the column of subject ids to honour them; set subject_id in the schema or "
                    "pass --id-column COL."
                )
            assert key is not None
            frame = without_withdrawn(frame, column, key, hashes)
        elif column is not None and column not in frame.columns:
            raise ParameterError(
                f"The id column {column!r} is not in the data; name the column holding the "
                "subject ids (--id-column, or subject_id in the schema)."
            )
        if self.id_column is not None and self.id_column != subject_id:
            frame = frame.drop(self.id_column)  # an id is never an attribute to release
        return frame

    # 2. reservation ------------------------------------------------------------------

    def reserve_dp(
        self, params: DpParameters, *, privacy_unit: str, seeded: bool
    ) -> BudgetPlan:
        """Reserve a DP release's budget (before any noise); seeded noise is not DP.

        ``params`` must fix δ (or declare the record count public): the plan is then
        known without drawing anything. Returns it.
        """
        plan = plan_budget(params)
        loss = ReleaseLoss.from_plan(plan)

        def loss_at(epsilon: float) -> ReleaseLoss:
            return ReleaseLoss.from_plan(plan_budget(replace(params, epsilon=epsilon)))

        self._reserve(
            loss_at=loss_at,
            kind="dp-seeded" if seeded else "dp",
            loss=loss,
            delta=plan.delta,
            privacy_unit=privacy_unit,
            record_count_source=(
                "declared public"
                if plan.record_count_public
                else "estimated from the noisy 1-way marginals (no budget of its own)"
                if params.record_count_from_marginals
                else "protected (ε_N-DP noise)"
            ),
        )
        return plan

    def reserve_other(self, kind: str, *, k: int | None = None) -> None:
        """Record a release outside the DP accounting (k-anonymous, exact)."""
        self._reserve(kind=kind, k=k, record_count_source="exact")

    def _reserve(self, *, kind: str, **values: Any) -> None:
        entry, state = self.ledger.reserve(
            self.lineage,
            kind=kind,
            source=self.source,
            output=self.output,
            withdrawals_through=self._honoured_at,
            **values,
        )
        self._reservation = _Reservation(
            entry_id=entry.id,
            kind=kind,
            created=entry.created,
            state=state,
            loss=values.get("loss"),
        )
        _crash_point("reserved")

    # 3. what the bundle says ---------------------------------------------------------

    def manifest(self) -> dict[str, Any]:
        """The lineage block of manifest.json."""
        r = self._reserved()
        return {
            "name": self.lineage,
            "ledger_entry": r.entry_id,
            "kind": r.kind,
            "inside_dp_accounting": r.kind in DP_KINDS,
            "cumulative": r.state.cumulative.to_dict(),
            "cap": None
            if r.state.cap is None
            else {"epsilon": r.state.cap.epsilon, "delta": r.state.cap.delta},
            "withdrawals_honoured_through": (
                None if self._honoured_at is None else self._honoured_at.isoformat()
            ),
        }

    def datasheet(self) -> str:
        """The datasheet's section on the lineage, its cumulative loss and withdrawals."""
        r = self._reserved()
        state = r.state
        lines = [
            "## Lineage, cumulative privacy loss and withdrawals",
            "",
            f"This release belongs to the lineage {_code(self.lineage)} (entry {r.entry_id} of "
            f"its ledger, budget reserved {_when(r.created)}).",
            "",
        ]
        if r.kind in DP_KINDS:
            assert r.loss is not None
            lines.append(
                f"- **This release:** ε={r.loss.epsilon:g}, δ={r.loss.delta:.3g}, "
                f"ρ={r.loss.rho:.4g} zCDP (its pure-DP parts, the record count among them, "
                "included as ε²/2)."
            )
        else:
            lines.append(
                f"- **This release** ({_kind_words(r.kind)}) is **outside the DP accounting**: "
                "it carries no differential-privacy guarantee, so it adds nothing the ledger "
                "can add up, and its risk must be judged on its own."
            )
        lines += [
            f"- **Cumulative loss of the lineage, this release included:** "
            f"{state.cumulative.statement}.",
            "- **What counts:** every DP release of the lineage that reserved budget — "
            "published, failed or interrupted (noise may have been drawn before a failure, "
            "so its budget is counted as spent). k-anonymous, exact and seeded outputs are "
            "listed in the ledger but are outside the DP accounting.",
            f"- **Rule:** {COMPOSITION_RULE}",
        ]
        if state.cap is None:
            lines.append("- **Cap:** none set for this lineage.")
        else:
            at = f", δ={state.cap.delta:.3g}" if state.cap.delta is not None else ""
            lines.append(f"- **Cap:** ε={state.cap.epsilon:g}{at} for the whole lineage.")
        lines += [
            "",
            f"**Withdrawals.** Every withdrawal request recorded for this lineage up to "
            f"{_when(self._honoured_at)} was honoured: the rows of those subjects were removed "
            "before anything was counted, protected or synthesized.",
            "",
            "**What cannot be undone.** Bundles of this lineage published before a withdrawal "
            "stay published; they cannot be recalled, and the person's data contributed to "
            "them. For the differentially private ones, DP bounds that contribution: nothing "
            "in them depends on any one person by more than the lineage's cumulative ε and δ "
            "at the time. k-anonymous or exact outputs published earlier carry no such bound.",
        ]
        return "\n".join(lines)

    # 4. commit, or failure -----------------------------------------------------------

    def commit(self, folder: Path) -> None:
        """Commit the entry with the checksum of the built (not yet renamed) bundle, or
        of the written (not yet renamed) file of counts."""
        r = self._reserved()
        self.ledger.commit(r.entry_id, bundle_checksum(folder))
        _crash_point("committed")

    def fail(self, error: BaseException) -> None:
        """Mark the reservation failed (if there is one); its budget keeps counting."""
        if self._reservation is not None:
            self.ledger.fail(self._reservation.entry_id, f"{type(error).__name__}")

    @property
    def reserved(self) -> bool:
        """Whether a reservation was made."""
        return self._reservation is not None

    @property
    def entry_id(self) -> int | None:
        """The release's ledger entry (None before the reservation)."""
        return None if self._reservation is None else self._reservation.entry_id

    def _reserved(self) -> _Reservation:
        if self._reservation is None:  # pragma: no cover - a bug in the pipeline
            raise InternalError("The release was not reserved in the ledger.")
        return self._reservation


def _kind_words(kind: str) -> str:
    return {
        "k-anonymity": "k-anonymous",
        "exact": "exact counts",
        "dp-seeded": "seeded noise, NOT differentially private",
    }.get(kind, kind)


def _code(text: str) -> str:
    return f"`{text.replace('`', '')}`"
