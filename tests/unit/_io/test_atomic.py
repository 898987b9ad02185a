"""Writing outputs: one writer at a time, stale leftovers cleaned, a full disk is a sentence."""

from __future__ import annotations

import errno
import multiprocessing
import os
import threading
from pathlib import Path

import pytest

from dpshowcase._io.atomic import (
    atomic_directory,
    atomic_path,
    atomic_write_text,
    output_lock,
)
from dpshowcase.errors import InputError


def _hold_lock(path: str, locked, release) -> None:  # runs in another process
    with output_lock(Path(path)):
        locked.set()
        release.wait(30)


def test_a_second_process_writing_the_same_output_fails_with_a_sentence(tmp_path):
    output = tmp_path / "release"
    context = multiprocessing.get_context("spawn")
    locked, release = context.Event(), context.Event()
    other = context.Process(target=_hold_lock, args=(str(output), locked, release))
    other.start()
    try:
        assert locked.wait(60)
        with (
            pytest.raises(InputError, match="Another dpshowcase run is writing"),
            atomic_directory(output) as folder,
        ):
            (folder / "x").write_text("x")
        assert not output.exists()
    finally:
        release.set()
        other.join(30)
    assert other.exitcode == 0
    # released cleanly: the lock file is gone and the output can be written now
    assert not (tmp_path / ".release.lock").exists()
    with atomic_directory(output) as folder:
        (folder / "x").write_text("x")
    assert (output / "x").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["release"]


def test_a_second_thread_cannot_take_a_held_lock_but_the_holder_can(tmp_path):
    output = tmp_path / "out.csv"
    errors: list[Exception] = []

    def other() -> None:
        try:
            with output_lock(output):
                pass
        except InputError as exc:
            errors.append(exc)

    with output_lock(output):
        atomic_write_text(output, "nested in the same thread")  # re-entrant
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert len(errors) == 1
    assert output.read_text() == "nested in the same thread"
    assert not (tmp_path / ".out.csv.lock").exists()


def test_leftovers_of_a_killed_run_are_removed_by_the_next_one(tmp_path):
    output = tmp_path / "release"
    stale_dir = tmp_path / ".release.k3j_x9aa.tmp"  # as tempfile.mkdtemp names them
    stale_dir.mkdir()
    (stale_dir / "synthetic.csv").write_text("half written")
    stale_old = tmp_path / ".release.old"
    stale_old.mkdir()
    other_output = tmp_path / ".release2.abcdefgh.tmp"  # another output's: kept
    other_output.mkdir()
    with atomic_directory(output) as folder:
        (folder / "x").write_text("x")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [".release2.abcdefgh.tmp", "release"]


def test_a_full_disk_is_one_sentence_and_nothing_is_written(tmp_path):
    output = tmp_path / "counts.csv"
    with pytest.raises(InputError, match="disk is full") as caught, atomic_path(output):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert caught.value.__cause__ is None
    assert list(tmp_path.iterdir()) == []


def test_a_non_empty_folder_is_replaced_only_when_the_caller_allows(tmp_path):
    output = tmp_path / "thesis"
    output.mkdir()
    (output / "chapter1.tex").write_text("years of work")
    with pytest.raises(InputError, match="may replace"), atomic_directory(output, overwrite=True):
        pass
    with (
        pytest.raises(InputError, match="not yours"),
        atomic_directory(output, overwrite=True, replaceable=lambda p: "not yours"),
    ):
        pass
    assert (output / "chapter1.tex").read_text() == "years of work"
    with atomic_directory(output, overwrite=True, replaceable=lambda p: None) as folder:
        (folder / "new").write_text("new")
    assert sorted(p.name for p in output.iterdir()) == ["new"]
