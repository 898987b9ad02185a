"""Background releases: a queue of runs, each computed by a worker process.

:class:`JobManager` starts at most ``max_concurrent_jobs`` workers
(:mod:`.worker`), reads their progress events, and keeps the run rows in step. The
live progress of a running job is kept in memory (read by the progress endpoint many
times a second) and written to the database at each new stage and at the end.
Cancelling a queued run drops it; cancelling a running one ends its process and
removes whatever it had begun to write.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from dpshowcase.web.datafolder import DISK_FULL, FOLDER_MODE, is_disk_full, write_private
from dpshowcase.web.store import Release, Store, new_id, now

__all__ = ["JobManager", "LiveState"]

log = logging.getLogger("dpshowcase.web")


@dataclass
class LiveState:
    """What a job is doing now."""

    status: str
    stage: str = ""
    progress: float = 0.0


def _could_not_start(exc: OSError) -> str:
    if is_disk_full(exc):
        return DISK_FULL
    return f"The run could not start ({exc.strerror or type(exc).__name__})."


class JobManager:
    """Runs release specs one (or a few) at a time in worker processes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._limit = store.settings.max_concurrent_jobs
        self._lock = threading.Lock()
        self._queue: deque[tuple[str, dict[str, Any]]] = deque()
        self._running: dict[str, subprocess.Popen[str]] = {}
        self._cancelled: set[str] = set()
        self._live: dict[str, LiveState] = {}
        self._started: dict[str, float] = {}
        self._closed = False

    # -- public -----------------------------------------------------------------------

    def submit(self, run_id: str, spec: dict[str, Any]) -> None:
        """Queue a run whose row exists with status "queued"."""
        with self._lock:
            self._queue.append((run_id, spec))
            self._live[run_id] = LiveState("queued")
        self._dispatch()

    def live(self, run_id: str) -> LiveState | None:
        """The in-memory state of an active run, or None."""
        with self._lock:
            state = self._live.get(run_id)
            return LiveState(state.status, state.stage, state.progress) if state else None

    def cancel(self, run_id: str) -> bool:
        """Stop a queued or running run; False if it was neither."""
        with self._lock:
            queued = [item for item in self._queue if item[0] == run_id]
            for item in queued:
                self._queue.remove(item)
            process = self._running.get(run_id)
            if not queued and process is None:
                return False
            self._cancelled.add(run_id)
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - a stuck worker
                process.kill()
        else:
            with self._lock:
                self._cancelled.discard(run_id)
            self._finish(run_id, "cancelled", "Cancelled before it started.")
        return True

    def active(self) -> list[str]:
        """Ids of queued and running runs."""
        with self._lock:
            return [run_id for run_id, _ in self._queue] + list(self._running)

    def close(self) -> None:
        """End every worker (the app is stopping)."""
        with self._lock:
            self._closed = True
            queued = [run_id for run_id, _ in self._queue]
            self._queue.clear()
            running = list(self._running)
        for run_id in queued:
            self._finish(run_id, "cancelled", "The app stopped before this run started.")
        for run_id in running:
            self.cancel(run_id)

    # -- internals --------------------------------------------------------------------

    def _dispatch(self) -> None:
        unstarted: list[tuple[str, str]] = []
        with self._lock:
            if self._closed:
                return
            while self._queue and len(self._running) < self._limit:
                run_id, spec = self._queue.popleft()
                try:
                    process = self._start(run_id, spec)
                except OSError as exc:  # e.g. the disk is full: the run fails, the app goes on
                    unstarted.append((run_id, _could_not_start(exc)))
                    continue
                self._running[run_id] = process
                self._started[run_id] = time.monotonic()
                self._live[run_id] = LiveState("running", "Starting", 0.0)
                self.store.update_run(run_id, status="running", stage="Starting")
                threading.Thread(
                    target=self._watch, args=(run_id, process), daemon=True, name=f"run-{run_id}"
                ).start()
        for run_id, message in unstarted:
            shutil.rmtree(self.store.run_dir(run_id), ignore_errors=True)
            self._finish(run_id, "failed", message)

    def _start(self, run_id: str, spec: dict[str, Any]) -> subprocess.Popen[str]:
        """Write the run's spec (owner-only) and start its worker process."""
        folder = self.store.run_dir(run_id)
        folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        spec_path = folder / "spec.json"
        write_private(spec_path, json.dumps(spec).encode("utf-8"))
        return subprocess.Popen(
            [sys.executable, "-m", "dpshowcase.web.worker", str(spec_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
            umask=0o077,  # the bundle it writes is for its owner only
        )

    def _watch(self, run_id: str, process: subprocess.Popen[str]) -> None:
        last: dict[str, Any] | None = None
        assert process.stdout is not None
        for line in process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "progress":
                self._progress(run_id, str(event["stage"]), float(event["fraction"]))
            else:
                last = event
        process.stdout.close()
        process.wait()
        with self._lock:
            self._running.pop(run_id, None)
            cancelled = run_id in self._cancelled
            self._cancelled.discard(run_id)
        # the spec names the upload and its schema: not needed once the run is over
        (self.store.run_dir(run_id) / "spec.json").unlink(missing_ok=True)
        if cancelled:
            shutil.rmtree(self.store.bundle_dir(run_id), ignore_errors=True)
            self._finish(run_id, "cancelled", "Cancelled.")
        elif last is None:
            self._finish(run_id, "failed", "The worker stopped without a result.")
        elif last["event"] == "done":
            self._done(run_id, last)
        else:
            self._finish(run_id, "failed", str(last.get("message", "")))
            log.warning("run %s failed (%s)", run_id, last["event"])
        self._dispatch()

    def _progress(self, run_id: str, stage: str, fraction: float) -> None:
        with self._lock:
            state = self._live.get(run_id)
            if state is None:
                return
            new_stage = stage != state.stage
            state.stage, state.progress = stage, fraction
        if new_stage:
            self.store.update_run(run_id, stage=stage, progress=fraction)

    def _done(self, run_id: str, event: dict[str, Any]) -> None:
        self.store.add(Release(id=new_id(), run_id=run_id, created=now(), summary=event["summary"]))
        self.store.update_run(run_id, evaluation=event.get("evaluation"))
        self._finish(run_id, "done", "")
        log.info("run %s done", run_id)

    def _finish(self, run_id: str, status: str, message: str) -> None:
        started = self._started.pop(run_id, None)
        seconds = round(time.monotonic() - started, 3) if started is not None else None
        self.store.update_run(
            run_id,
            status=status,
            message=message,
            stage="Done" if status == "done" else status.capitalize(),
            progress=1.0 if status == "done" else 0.0,
            finished=now(),
            seconds=seconds,
        )
        with self._lock:
            self._live.pop(run_id, None)
