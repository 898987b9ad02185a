"""Console output of the command line: progress bars, tables, and one-line errors."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from dpshowcase import progress
from dpshowcase.errors import UserError

console = Console(stderr=True, highlight=False)
"""Messages and progress go to stderr so stdout stays clean for data."""

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def fail(message: str) -> NoReturn:
    """Print one plain sentence and exit non-zero."""
    # escape: a message naming a file such as data[2024].csv must print as written
    console.print(f"[bold red]Error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(EXIT_USER_ERROR)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn dpshowcase's user errors and Ctrl-C into one line and an exit code."""
    try:
        yield
    except UserError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        console.print("Interrupted; no output was written.")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except MemoryError:
        fail("The machine ran out of memory; try a shorter reporting length or fewer columns.")
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        fail("The disk is full; free some space or write the output to another disk.")


class Stages:
    """A progress display: one bar per stage, a stage's bar advanced by callbacks."""

    def __init__(self, quiet: bool = False) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
            disable=quiet,
        )

    def __enter__(self) -> Stages:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)  # type: ignore[arg-type]

    @contextlib.contextmanager
    def stage(self, description: str) -> Iterator[progress.Progress]:
        """A stage; the yielded Progress moves its bar (the reported stage name is not shown)."""
        task = self._progress.add_task(description, total=None)

        def update(_stage: str, done: float, total: float) -> None:
            self._progress.update(task, completed=done, total=max(total, 1))

        yield update
        self._progress.update(task, completed=1, total=1)


class StageBars:
    """One progress bar per stage name that a library call reports as (stage, done, total).

    A new name closes the previous bar as complete; leaving the block on an error
    leaves the running bar incomplete.
    """

    def __init__(self, stages: Stages) -> None:
        self._stages = stages
        self._current: str | None = None
        self._open: contextlib.ExitStack | None = None
        self._update: progress.Progress | None = None

    def __enter__(self) -> StageBars:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._open is not None:
            if exc[0] is not None:
                self._open.__exit__(*exc)  # a failed stage's bar is not shown as complete
            else:
                self._open.close()
            self._open = None

    def __call__(self, stage: str, done: float, total: float) -> None:
        if stage != self._current:
            if self._open is not None:
                self._open.close()
            self._current = stage
            self._open = contextlib.ExitStack()
            self._update = self._open.enter_context(self._stages.stage(stage))
        assert self._update is not None
        self._update(stage, done, total)
