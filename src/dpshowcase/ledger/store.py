"""The ledger: one SQLite file that adds up the releases of each lineage.

Every write is one short transaction that takes SQLite's write lock first
(``BEGIN IMMEDIATE``), so two releases of one lineage started at the same moment cannot
both fit under a cap that only one of them fits under.

Reconciliation: a ``reserved`` entry whose process (same host) is no longer alive is
marked ``failed (interrupted)`` when a ledger is opened. It keeps counting toward the
lineage's cumulative loss: the process may have drawn noise, and part of its output may
have been seen, so the conservative reading is that its budget was spent. Only a
release refused before its reservation (over the cap, bad input) costs nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import math
import os
import re
import socket
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dpshowcase._version import __version__
from dpshowcase.errors import InputError, ParameterError
from dpshowcase.ledger.composition import CumulativeLoss, ReleaseLoss, cumulative_loss
from dpshowcase.ledger.model import (
    COMMITTED,
    DP_KINDS,
    FAILED,
    INTERRUPTED,
    RESERVED,
    Base,
    CapEntry,
    LineageRow,
    ReleaseEntry,
    WithdrawalEntry,
)
from dpshowcase.ledger.withdrawal import hash_ids, load_key

__all__ = [
    "Cap",
    "Ledger",
    "LineageState",
    "as_utc",
    "bundle_checksum",
    "bundle_state",
    "check_lineage_name",
    "default_ledger_path",
    "now",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")


def now() -> dt.datetime:
    """The time in UTC."""
    return dt.datetime.now(dt.UTC)


def default_ledger_path() -> Path:
    """``ledger.sqlite3`` in the user's data folder (e.g. ~/.local/share/dpshowcase)."""
    return Path(user_data_dir("dpshowcase", appauthor=False)) / "ledger.sqlite3"


def check_lineage_name(name: object) -> str:
    """The name, or ParameterError: letters, digits, space, '.', '_', '-'; at most 100."""
    if not isinstance(name, str) or not _NAME.match(name.strip()):
        raise ParameterError(
            f"The lineage name {name!r} is not usable; use up to 100 letters, digits, spaces, "
            "dots, dashes or underscores, e.g. --lineage ctdc-cases."
        )
    return name.strip()


def bundle_checksum(output: Path) -> str:
    """SHA-256 of a bundle's manifest.json (which lists the SHA-256 of every file), or of
    the output itself when it is a single file (e.g. a table of counts)."""
    output = Path(output)
    target = output if output.is_file() else output / "manifest.json"
    digest = hashlib.sha256()
    with target.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; the ledger writes UTC only."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Cap:
    """The cap in force on a lineage."""

    epsilon: float
    delta: float | None
    reason: str
    created: dt.datetime


@dataclass(frozen=True)
class LineageState:
    """A lineage as a data officer reads it."""

    name: str
    releases: list[ReleaseEntry]
    cap: Cap | None
    cap_history: list[CapEntry]
    cumulative: CumulativeLoss
    withdrawals_through: dt.datetime | None
    """The time of the newest withdrawal recorded (never how many there are)."""


def _loss(entry: ReleaseEntry) -> ReleaseLoss:
    return ReleaseLoss(
        rho=entry.rho or 0.0,
        delta_conversion=entry.delta_conversion or 0.0,
        delta_outside=entry.delta_outside or 0.0,
        epsilon=entry.epsilon or 0.0,
    )


def counts_toward_budget(entry: ReleaseEntry) -> bool:
    """Every DP entry counts, whatever its status (see the module docstring)."""
    return entry.kind in DP_KINDS


def bundle_state(entry: ReleaseEntry) -> str:
    """Whether a committed entry's bundle is where it was written, and unchanged."""
    if entry.status != COMMITTED:
        return "none"
    output = Path(entry.output)
    if not (output.is_file() or (output / "manifest.json").is_file()):
        return "missing"
    return "intact" if bundle_checksum(output) == entry.checksum else "changed"


def _largest_fitting(
    asked: float, loss_at: Callable[[float], ReleaseLoss], fits: Callable[[ReleaseLoss], bool]
) -> float | None:
    """The largest ε below ``asked`` (to 3 digits, rounded down) at which the release fits."""
    low, high = 0.0, asked
    for _ in range(40):
        middle = (low + high) / 2
        try:
            ok = fits(loss_at(middle))
        except ParameterError:  # too small an ε for the release's other parameters
            ok = False
        low, high = (middle, high) if ok else (low, middle)
        if high - low <= 1e-3 * high:
            break
    if low <= 0.0:
        return None
    digits = 10 ** (math.floor(math.log10(low)) - 2)
    return math.floor(low / digits) * digits


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


class Ledger:
    """One ledger file; open it with :meth:`open`."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, path: Path | None = None) -> Ledger:
        """Open (or create) the ledger at ``path`` (default: the user's data folder)."""
        path = Path(path) if path is not None else default_ledger_path()
        path = path.expanduser()
        if path.exists() and not path.is_file():
            raise InputError(f"The ledger {path} is a folder; give a file name, e.g. ledger.db.")
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # owner-only from its first byte
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # the transactions below are explicit
            dbapi_connection.execute("PRAGMA foreign_keys=ON")

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        try:
            Base.metadata.create_all(engine)
        except OperationalError:
            engine.dispose()
            raise InputError(
                f"The ledger {path} cannot be opened as a SQLite database; check the path."
            ) from None
        with contextlib.suppress(OSError):  # e.g. a file owned by someone else
            os.chmod(path, 0o600)
        ledger = cls(path, engine)
        ledger.reconcile()
        return ledger

    def close(self) -> None:
        """Release the database file."""
        self._engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One transaction holding SQLite's write lock from its start."""
        with self._sessions() as session, session.begin():
            yield session

    # -- lineages ---------------------------------------------------------------------

    def _ensure_lineage(self, session: Session, name: str) -> None:
        if session.get(LineageRow, name) is None:
            session.add(LineageRow(name=name, created=now()))
            session.flush()

    def lineages(self) -> list[str]:
        """Every lineage name, sorted."""
        with self._sessions() as session:
            return list(session.scalars(select(LineageRow.name).order_by(LineageRow.name)))

    def exists(self, name: str) -> bool:
        """Whether the ledger knows the lineage."""
        with self._sessions() as session:
            return session.get(LineageRow, name) is not None

    def state(self, name: str) -> LineageState:
        """The releases, cap and cumulative loss of a lineage."""
        name = check_lineage_name(name)
        with self._sessions() as session:
            return self._state(session, name)

    def _state(self, session: Session, name: str) -> LineageState:
        releases = list(
            session.scalars(
                select(ReleaseEntry).where(ReleaseEntry.lineage == name).order_by(ReleaseEntry.id)
            )
        )
        history = list(
            session.scalars(
                select(CapEntry).where(CapEntry.lineage == name).order_by(CapEntry.id)
            )
        )
        cap = None
        if history:
            last = history[-1]
            cap = Cap(last.epsilon, last.delta, last.reason, as_utc(last.created))  # type: ignore[arg-type]
        through = session.scalar(
            select(func.max(WithdrawalEntry.created)).where(WithdrawalEntry.lineage == name)
        )
        losses = [_loss(e) for e in releases if counts_toward_budget(e)]
        return LineageState(
            name=name,
            releases=releases,
            cap=cap,
            cap_history=history,
            cumulative=cumulative_loss(losses, cap.delta if cap else None),
            withdrawals_through=as_utc(through),
        )

    # -- caps -------------------------------------------------------------------------

    def set_cap(self, name: str, epsilon: float, delta: float | None, reason: str) -> Cap:
        """Set the lineage's cap; raising it needs a reason, and every change is kept."""
        name = check_lineage_name(name)
        if isinstance(epsilon, bool) or not (math.isfinite(epsilon) and epsilon > 0):
            raise ParameterError(f"The cap's epsilon must be a positive number, not {epsilon!r}.")
        if delta is not None and (isinstance(delta, bool) or not 0 < delta < 1):
            raise ParameterError(f"The cap's delta must be between 0 and 1, not {delta!r}.")
        reason = (reason or "").strip()
        with self._write() as session:
            self._ensure_lineage(session, name)
            current = self._state(session, name).cap
            raising = current is not None and (
                epsilon > current.epsilon
                or (current.delta is not None and (delta is None or delta > current.delta))
            )
            if raising and not reason:
                raise ParameterError(
                    f"Raising the cap of lineage {name!r} must be recorded with a reason; "
                    'pass --reason "…" (e.g. the decision that allowed it).'
                )
            entry = CapEntry(
                lineage=name,
                created=now(),
                epsilon=epsilon,
                delta=delta,
                reason=reason or ("first cap" if current is None else "lowered; no reason given"),
                tool_version=__version__,
            )
            session.add(entry)
        return Cap(epsilon, delta, entry.reason, entry.created)

    # -- releases ---------------------------------------------------------------------

    def reserve(
        self,
        name: str,
        *,
        kind: str,
        source: str,
        output: Path,
        loss: ReleaseLoss | None = None,
        delta: float | None = None,
        k: int | None = None,
        privacy_unit: str | None = None,
        record_count_source: str | None = None,
        withdrawals_through: dt.datetime | None = None,
        loss_at: Callable[[float], ReleaseLoss] | None = None,
    ) -> tuple[ReleaseEntry, LineageState]:
        """Reserve a release's budget before any noise is drawn.

        Raises :class:`~dpshowcase.errors.InsufficientBudgetError`-like ParameterError,
        writing nothing, when a DP release would take the lineage over its cap. Returns
        the entry and the lineage's state including it. ``loss_at(ε)``, the loss of the
        same release at another ε, lets a refusal say how large an ε would still fit.
        """
        name = check_lineage_name(name)
        if kind in DP_KINDS and loss is None:
            raise ParameterError("A DP release needs its privacy loss to be reserved.")
        with self._write() as session:
            self._ensure_lineage(session, name)
            before = self._state(session, name)
            if kind in DP_KINDS and before.cap is not None:
                assert loss is not None
                self._check_cap(before, loss, loss_at)
            entry = ReleaseEntry(
                lineage=name,
                kind=kind,
                status=RESERVED,
                created=now(),
                tool_version=__version__,
                source=source,
                output=str(Path(output).resolve()),
                epsilon=loss.epsilon if loss else None,
                delta=delta if delta is not None else (loss.delta if loss else None),
                rho=loss.rho if loss else None,
                delta_conversion=loss.delta_conversion if loss else None,
                delta_outside=loss.delta_outside if loss else None,
                k=k,
                privacy_unit=privacy_unit,
                record_count_source=record_count_source,
                withdrawals_through=withdrawals_through,
                pid=os.getpid(),
                host=socket.gethostname(),
                message="",
            )
            session.add(entry)
            session.flush()
            after = self._state(session, name)
        return entry, after

    @staticmethod
    def _check_cap(
        state: LineageState,
        loss: ReleaseLoss,
        loss_at: Callable[[float], ReleaseLoss] | None = None,
    ) -> None:
        cap = state.cap
        assert cap is not None
        losses = [_loss(e) for e in state.releases if counts_toward_budget(e)]

        def fits(candidate: ReleaseLoss) -> bool:
            return cumulative_loss([*losses, candidate], cap.delta).epsilon <= cap.epsilon

        if fits(loss):
            return
        total = cumulative_loss([*losses, loss], cap.delta).epsilon
        spent = state.cumulative.epsilon
        left = max(cap.epsilon - spent, 0.0) if math.isfinite(spent) else 0.0
        at = f", δ={cap.delta:.3g}" if cap.delta is not None else ""
        would = "∞ (its δ does not fit)" if math.isinf(total) else f"{total:.4g}"
        hint = ""
        if loss_at is not None:
            largest = _largest_fitting(loss.epsilon, loss_at, fits)
            hint = (
                f" (a release like this one fits up to ε={largest:.4g})"
                if largest
                else " (no release like this one fits)"
            )
        raise ParameterError(
            f"Refused: lineage {state.name!r} has a cap of ε={cap.epsilon:g}{at} and its "
            f"releases so far spent ε={spent:.4g}, so ε={left:.4g} of it is left{hint}, "
            f"while this release (ε={loss.epsilon:g}) would bring it to ε={would}; nothing was "
            "written (ask for a smaller --epsilon, or raise the cap with 'dpshowcase ledger "
            "cap' and a reason)."
        )

    def commit(self, entry_id: int, checksum: str) -> None:
        """Mark the release committed with its bundle's checksum (before the rename)."""
        with self._write() as session:
            entry = session.get(ReleaseEntry, entry_id)
            if entry is None or entry.status != RESERVED:
                raise InputError(
                    f"Ledger entry {entry_id} is no longer reserved (another process marked it "
                    "interrupted); the bundle was not published."
                )
            entry.status = COMMITTED
            entry.checksum = checksum
            entry.finished = now()

    def fail(self, entry_id: int, reason: str) -> None:
        """Mark a reserved release failed; its budget keeps counting."""
        with self._write() as session:
            entry = session.get(ReleaseEntry, entry_id)
            if entry is not None and entry.status == RESERVED:
                entry.status = FAILED
                entry.message = reason[:500]
                entry.finished = now()

    def reconcile(self) -> int:
        """Mark reservations of dead processes on this host interrupted; how many."""
        host = socket.gethostname()
        marked = 0
        with self._write() as session:
            for entry in session.scalars(
                select(ReleaseEntry).where(ReleaseEntry.status == RESERVED)
            ):
                if entry.host == host and not _process_alive(entry.pid):
                    entry.status = INTERRUPTED
                    entry.message = "the process ended before committing"
                    entry.finished = now()
                    marked += 1
        return marked

    # -- withdrawals ------------------------------------------------------------------

    def withdraw(self, name: str, ids: Iterable[object]) -> tuple[int, dt.datetime]:
        """Record withdrawn ids (as keyed hashes); (newly recorded, time)."""
        name = check_lineage_name(name)
        key = load_key(self.path, create=True)
        assert key is not None
        hashes = hash_ids(key, ids)
        moment = now()
        with self._write() as session:
            self._ensure_lineage(session, name)
            known = set(
                session.scalars(
                    select(WithdrawalEntry.id_hash).where(WithdrawalEntry.lineage == name)
                )
            )
            new = sorted(hashes - known)
            session.add_all(
                WithdrawalEntry(lineage=name, id_hash=h, created=moment) for h in new
            )
        return len(new), moment

    def withdrawn(self, name: str) -> tuple[bytes | None, set[str], dt.datetime | None]:
        """The key, the hashes of the ids withdrawn from a lineage, and the newest time."""
        name = check_lineage_name(name)
        with self._sessions() as session:
            rows = session.execute(
                select(WithdrawalEntry.id_hash, WithdrawalEntry.created).where(
                    WithdrawalEntry.lineage == name
                )
            ).all()
        hashes = {row[0] for row in rows}
        through = as_utc(max((row[1] for row in rows), default=None))
        if not hashes:
            return None, set(), None
        key = load_key(self.path, create=False)
        if key is None:
            raise InputError(
                f"The ledger key {self.path}.key is missing, so the withdrawals of lineage "
                f"{name!r} cannot be matched; restore it from a backup (no release is made "
                "without honouring them)."
            )
        return key, hashes, through
