"""What every request handler shares: settings, the store, the jobs and small caches."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

import polars as pl
from starlette.requests import Request

from dpshowcase.release.explore import ReleaseExplorer
from dpshowcase.web.jobs import JobManager
from dpshowcase.web.settings import WebSettings
from dpshowcase.web.store import Dataset, Store
from dpshowcase.web.uploads import load_upload

__all__ = ["LRU", "AppContext", "context"]

T = TypeVar("T")


class LRU(Generic[T]):
    """A small thread-safe least-recently-used cache."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> T | None:
        """The cached value, or None."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: T) -> None:
        """Cache a value, dropping the oldest beyond the size."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def drop(self, key: str) -> None:
        """Forget one key."""
        with self._lock:
            self._items.pop(key, None)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def keys(self) -> list[str]:
        """The cached keys."""
        with self._lock:
            return list(self._items)


class AppContext:
    """The state of one app instance."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.store = Store(settings)  # locks the data folder first
        try:
            self.store.recover()
        except BaseException:
            self.store.close()
            raise
        self.jobs = JobManager(self.store)
        self.frames: LRU[pl.DataFrame] = LRU(2)
        """Loaded sensitive tables, so the Data step need not re-read the file."""
        self.explorers: LRU[ReleaseExplorer] = LRU(4)
        """Loaded release bundles for Navigate."""

    def close(self) -> None:
        """End the jobs, close the database and unlock the data folder (idempotent)."""
        self.jobs.close()
        self.store.close()

    def frame(self, dataset: Dataset) -> pl.DataFrame:
        """The dataset's table (read from its upload once, then cached)."""
        frame = self.frames.get(dataset.id)
        if frame is None:
            frame = load_upload(self.store.upload_path(dataset), dataset.name, self.settings)
            self.frames.put(dataset.id, frame)
        return frame

    def explorer(self, run_id: str) -> ReleaseExplorer:
        """The release bundle of a finished run, loaded once."""
        explorer = self.explorers.get(run_id)
        if explorer is None:
            explorer = ReleaseExplorer(self.store.bundle_dir(run_id))
            self.explorers.put(run_id, explorer)
        return explorer

    def forget_runs(self, dataset_id: str) -> None:
        """Drop cached bundles of a dataset's runs."""
        for run in self.store.runs(dataset_id):
            self.explorers.drop(run.id)

    def too_large_message(self) -> str:
        """What a person reads when an upload is over the limit."""
        mib = self.settings.max_upload_bytes / 1024 / 1024
        return (
            f"The upload is larger than the limit of {mib:,.0f} MiB; use a smaller file or "
            "start the app with a larger --max-upload-mb."
        )


def context(request: Request) -> AppContext:
    """The app context of a request."""
    ctx: AppContext = request.app.state.ctx
    return ctx
