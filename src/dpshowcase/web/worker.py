"""The process that computes one release: ``python -m dpshowcase.web.worker SPEC``.

A release runs in its own process so that the web server stays responsive (the
compiled kernels hold the interpreter while they run) and so that cancelling is
immediate (the process is ended). SPEC is a JSON file naming the data, the schema and
the parameters; the worker calls :func:`~dpshowcase.release.pipeline.run_release` and
reports on its standard output, one JSON object per line::

    {"event": "progress", "stage": "Protecting", "fraction": 0.31}
    {"event": "done", "summary": {...}, "evaluation": {...}}
    {"event": "failed", "message": "..."}       a problem the user can fix
    {"event": "error", "message": "..."}        a bug

Nothing is logged: messages can quote data values and go to the app's own database.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from dpshowcase.errors import UserError
from dpshowcase.release.pipeline import ReleaseJob, run_release
from dpshowcase.web.datafolder import DISK_FULL, is_disk_full

__all__ = ["job_from_spec", "main"]


def job_from_spec(spec: dict[str, Any]) -> ReleaseJob:
    """The :class:`~dpshowcase.release.pipeline.ReleaseJob` a spec describes (checked again)."""
    return ReleaseJob.from_spec(spec)


class _Reporter:
    """Writes events as JSON lines, at most a few progress lines per second."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._last = 0.0
        self._stage = ""

    def send(self, event: dict[str, Any]) -> None:
        self._out.write(json.dumps(event) + "\n")
        self._out.flush()

    def progress(self, stage: str, done: float, total: float) -> None:
        """A Progress of the whole job (run_release reports it as a fraction of 1)."""
        fraction = done / total if total else 0.0
        moment = time.monotonic()
        if stage == self._stage and moment - self._last < 0.2:
            return
        self._stage, self._last = stage, moment
        self.send({"event": "progress", "stage": stage, "fraction": round(fraction, 4)})


def main(argv: list[str] | None = None) -> int:
    """Run the release in the spec file; report on stdout; exit 0 whatever happened."""
    args = sys.argv[1:] if argv is None else argv
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr  # library output must not mix with the events
    reporter = _Reporter(channel)
    try:
        spec = json.loads(Path(args[0]).read_text(encoding="utf-8"))
        outcome = run_release(job_from_spec(spec), reporter.progress)
        summary = outcome.summary
        reporter.send(
            {
                "event": "done",
                "summary": {
                    "synthetic_rows": summary.synthetic_rows,
                    "combinations": summary.combinations,
                    "record_count": summary.record_count,
                    "guarantee": summary.guarantee,
                    "private": summary.private,
                    "files": list(summary.files),
                },
                "evaluation": outcome.evaluation,
            }
        )
    except UserError as exc:
        reporter.send({"event": "failed", "message": str(exc)})
    except MemoryError:
        reporter.send(
            {
                "event": "failed",
                "message": "The machine ran out of memory; try a shorter reporting length "
                "or fewer columns.",
            }
        )
    except Exception as exc:
        if is_disk_full(exc):  # the user can fix that
            reporter.send({"event": "failed", "message": DISK_FULL})
        else:  # a bug: say so, keep the server alive
            reporter.send(
                {"event": "error", "message": f"Internal error ({type(exc).__name__}): {exc}"}
            )
    channel.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
