"""The ledger file: reservations, caps, reconciliation and withdrawals."""

from __future__ import annotations

import math
import stat
import subprocess
import sys
import threading

import polars as pl
import pytest

from dpshowcase.errors import ParameterError
from dpshowcase.ledger.composition import ReleaseLoss
from dpshowcase.ledger.model import COMMITTED, FAILED, INTERRUPTED, RESERVED
from dpshowcase.ledger.store import Ledger, bundle_state
from dpshowcase.ledger.withdrawal import key_path, without_withdrawn

LOSS = ReleaseLoss(rho=0.2, delta_conversion=5e-7, delta_outside=5e-7, epsilon=2.0)


@pytest.fixture
def ledger(tmp_path):
    with Ledger.open(tmp_path / "ledger.db") as book:
        yield book


def reserve(book, name="cases", loss=LOSS, kind="dp", output="out"):
    return book.reserve(name, kind=kind, source="cases.csv", output=output, loss=loss)


def test_reservation_counts_before_it_is_committed(ledger):
    entry, state = reserve(ledger)
    assert entry.status == RESERVED
    assert state.cumulative.rho == pytest.approx(LOSS.rho)
    ledger.commit(entry.id, "ab" * 32)
    after = ledger.state("cases")
    assert [e.status for e in after.releases] == [COMMITTED]
    assert after.releases[0].checksum == "ab" * 32


def test_a_failed_release_keeps_counting(ledger):
    entry, _ = reserve(ledger)
    ledger.fail(entry.id, "InputError")
    state = ledger.state("cases")
    assert state.releases[0].status == FAILED
    assert state.cumulative.releases == 1


def test_k_anonymous_releases_are_listed_outside_the_dp_accounting(ledger):
    reserve(ledger, kind="k-anonymity", loss=None)
    reserve(ledger, kind="exact", loss=None)
    state = ledger.state("cases")
    assert [e.kind for e in state.releases] == ["k-anonymity", "exact"]
    assert state.cumulative.releases == 0


def test_over_cap_release_is_refused_and_writes_nothing(ledger):
    ledger.set_cap("cases", 3.0, None, "board decision 2025-01")
    first, _ = reserve(ledger)
    ledger.commit(first.id, "0" * 64)
    before = ledger.state("cases")
    with pytest.raises(ParameterError, match=r"so ε=.* is left") as caught:
        reserve(ledger)
    assert "\n" not in str(caught.value)
    after = ledger.state("cases")
    assert [e.id for e in after.releases] == [e.id for e in before.releases]
    assert after.cumulative == before.cumulative
    # a smaller release still fits
    small = ReleaseLoss(rho=0.001, delta_conversion=5e-7, delta_outside=5e-7, epsilon=0.1)
    reserve(ledger, loss=small)


def test_raising_the_cap_needs_a_reason_and_is_kept(ledger):
    ledger.set_cap("cases", 3.0, 1e-5, "")
    with pytest.raises(ParameterError, match="reason"):
        ledger.set_cap("cases", 5.0, 1e-5, "  ")
    ledger.set_cap("cases", 5.0, 1e-5, "second survey approved")
    state = ledger.state("cases")
    assert state.cap is not None
    assert (state.cap.epsilon, state.cap.delta) == (5.0, 1e-5)
    assert [c.reason for c in state.cap_history] == ["first cap", "second survey approved"]


def test_a_dead_process_reservation_becomes_interrupted_and_still_counts(tmp_path):
    path = tmp_path / "ledger.db"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    with Ledger.open(path) as book:
        entry, _ = reserve(book)
        from sqlalchemy import update

        from dpshowcase.ledger.model import ReleaseEntry

        with book._write() as session:  # pretend the release ran in that (ended) process
            session.execute(
                update(ReleaseEntry).where(ReleaseEntry.id == entry.id).values(
                    pid=int(dead.stdout)
                )
            )
    with Ledger.open(path) as book:  # opening reconciles
        state = book.state("cases")
    assert state.releases[0].status == INTERRUPTED
    assert state.cumulative.releases == 1
    assert bundle_state(state.releases[0]) == "none"


def test_withdrawn_ids_are_keyed_hashes_only(tmp_path):
    path = tmp_path / "ledger.db"
    ids = ["SURVIVOR-0042", "case 17"]
    with Ledger.open(path) as book:
        added, _ = book.withdraw("cases", ids)
        again, _ = book.withdraw("cases", [" SURVIVOR-0042 "])  # the same id, trimmed
        key, hashes, through = book.withdrawn("cases")
    assert (added, again, len(hashes)) == (2, 0, 2)
    assert through is not None
    assert stat.S_IMODE(key_path(path).stat().st_mode) == 0o600
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for value in ids:
        assert value.encode() not in raw
        assert value.encode("utf-16-le") not in raw
    frame = pl.DataFrame({"id": ["SURVIVOR-0042", "x", "case 17", "y"], "a": [1, 2, 3, 4]})
    assert key is not None
    assert without_withdrawn(frame, "id", key, hashes)["a"].to_list() == [2, 4]


def test_cap_with_delta_judges_epsilon_at_that_delta(ledger):
    ledger.set_cap("cases", 100.0, 1e-6, "")
    # two releases whose threshold δ's alone use the cap's whole δ: no ε fits
    reserve(ledger)
    with pytest.raises(ParameterError, match="δ does not fit"):
        reserve(ledger)
    assert math.isfinite(ledger.state("cases").cumulative.epsilon)


@pytest.mark.parametrize(("epsilon", "delta"), [(0.0, None), (float("inf"), None), (1.0, 1.0)])
def test_a_bad_cap_is_refused_and_not_recorded(ledger, epsilon, delta):
    with pytest.raises(ParameterError, match="cap's"):
        ledger.set_cap("cases", epsilon, delta, "typo")
    assert ledger.state("cases").cap_history == []


def test_the_ledger_file_is_owner_only(tmp_path):
    path = tmp_path / "sub" / "ledger.db"
    with Ledger.open(path):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_concurrent_reservations_never_overrun_the_cap(tmp_path):
    """Each reservation checks the cap and writes under SQLite's write lock (BEGIN
    IMMEDIATE), so 8 racing releases that the cap admits 3 of get exactly 3 entries."""
    path = tmp_path / "ledger.db"
    pure = ReleaseLoss(rho=0.0, delta_conversion=0.0, delta_outside=0.0, epsilon=1.0)
    with Ledger.open(path) as book:
        book.set_cap("cases", 3.0, None, "")
    outcomes: list[str] = []

    def attempt() -> None:
        with Ledger.open(path) as book:
            try:
                reserve(book, loss=pure)
                outcomes.append("reserved")
            except ParameterError:
                outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 5 + ["reserved"] * 3
    with Ledger.open(path) as book:
        assert len(book.state("cases").releases) == 3
