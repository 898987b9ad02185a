"""The app's state in SQLite (via SQLAlchemy): datasets, runs and releases.

Layout of the data folder::

    .lock                       held by the server using the folder (one at a time)
    secret                      the key of the CSRF tokens
    dpshowcase.sqlite3          this database
    uploads/<id>.<csv|tsv|parquet>   uploaded sensitive files, under generated names
    runs/<id>/bundle/           the release bundle a run wrote (public output)

Folders are ``0700`` and files ``0600`` (see :mod:`.datafolder`): another user of the
machine can read none of it.

The sensitive things are the uploads and the dataset rows (schema, column names, value
summaries); :meth:`Store.delete_dataset` removes all of them. Runs keep their
parameters and releases; a run's error message can quote a data value, so it is erased
with the dataset.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from dpshowcase.web.datafolder import (
    FILE_MODE,
    DataFolderLock,
    check_data_folder,
    make_private,
)
from dpshowcase.web.settings import WebSettings

__all__ = ["Dataset", "Release", "Run", "Store", "new_id", "now"]

ACTIVE = ("queued", "running")
"""Run states that a job manager owns."""


def new_id() -> str:
    """A random id (used for rows and for every file name the app creates)."""
    return uuid.uuid4().hex


def now() -> dt.datetime:
    """The time in UTC."""
    return dt.datetime.now(dt.UTC)


class _Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Dataset(_Base):
    """An uploaded sensitive table."""

    __tablename__ = "datasets"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    """The name the user gave (display only; never a path)."""
    file: Mapped[str] = mapped_column(String(64))
    """The generated file name under uploads/."""
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    size_bytes: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    column_names: Mapped[list[Any]] = mapped_column(JSON)
    schema: Mapped[dict[str, Any]] = mapped_column(JSON)
    reports: Mapped[list[Any]] = mapped_column(JSON)
    """What schema inference decided per column, and why."""


class Run(_Base):
    """One protect-and-synthesize job on a dataset."""

    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset_id: Mapped[str | None] = mapped_column(
        ForeignKey("datasets.id", ondelete="SET NULL"), nullable=True
    )
    dataset_name: Mapped[str] = mapped_column(String(255))
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    """queued, running, done, failed or cancelled."""
    stage: Mapped[str] = mapped_column(String(64), default="")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(2000), default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    finished: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Release(_Base):
    """The bundle a finished run wrote."""

    __tablename__ = "releases"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class Store:
    """Rows in SQLite and the files they name, kept in step.

    Opening a store locks its data folder (:class:`~.datafolder.DataFolderLock`;
    :class:`~.datafolder.DataFolderInUseError` if another server holds it) and makes
    the folder private; :meth:`close` lets it go.
    """

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        check_data_folder(settings.data_dir)
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.lock = DataFolderLock(settings.data_dir)
        self.lock.acquire()  # before anything is touched: another server may own it
        try:
            self._open()
        except BaseException:
            self.lock.release()
            raise

    def _open(self) -> None:
        settings = self.settings
        make_private(settings.data_dir)
        for folder in (settings.uploads, settings.runs):
            folder.mkdir(mode=0o700, exist_ok=True)
        # SQLite gives its journal files the database file's mode
        settings.database.touch(mode=FILE_MODE, exist_ok=True)
        self.engine = create_engine(
            f"sqlite:///{settings.database}",
            connect_args={"check_same_thread": False},
        )
        _Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        """Close the database and unlock the folder (the server is stopping)."""
        self.engine.dispose()
        self.lock.release()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed at the end of the block (rolled back on error)."""
        with self._sessions.begin() as session:
            yield session

    # -- paths ------------------------------------------------------------------------

    def upload_path(self, dataset: Dataset) -> Path:
        """Where a dataset's uploaded file lies."""
        return self.settings.uploads / dataset.file

    def run_dir(self, run_id: str) -> Path:
        """A run's folder."""
        return self.settings.runs / run_id

    def bundle_dir(self, run_id: str) -> Path:
        """A run's release bundle."""
        return self.run_dir(run_id) / "bundle"

    # -- reads ------------------------------------------------------------------------

    def datasets(self) -> list[Dataset]:
        """Every dataset, newest first."""
        with self.session() as s:
            return list(s.scalars(select(Dataset).order_by(Dataset.created.desc())))

    def dataset(self, dataset_id: str) -> Dataset | None:
        """One dataset, or None."""
        with self.session() as s:
            return s.get(Dataset, dataset_id)

    def runs(self, dataset_id: str | None = None) -> list[Run]:
        """Runs (of one dataset), newest first."""
        with self.session() as s:
            query = select(Run).order_by(Run.created.desc())
            if dataset_id is not None:
                query = query.where(Run.dataset_id == dataset_id)
            return list(s.scalars(query))

    def run(self, run_id: str) -> Run | None:
        """One run, or None."""
        with self.session() as s:
            return s.get(Run, run_id)

    def release_of(self, run_id: str) -> Release | None:
        """The release a run wrote, or None."""
        with self.session() as s:
            return s.scalars(select(Release).where(Release.run_id == run_id)).first()

    # -- writes -----------------------------------------------------------------------

    def add(self, row: _Base) -> None:
        """Insert a row."""
        with self.session() as s:
            s.add(row)

    def update_run(self, run_id: str, **values: Any) -> None:
        """Set fields of a run."""
        with self.session() as s:
            run = s.get(Run, run_id)
            if run is not None:
                for key, value in values.items():
                    setattr(run, key, value)

    def set_schema(self, dataset_id: str, schema: dict[str, Any]) -> None:
        """Store the edited schema of a dataset."""
        with self.session() as s:
            dataset = s.get(Dataset, dataset_id)
            if dataset is not None:
                dataset.schema = schema

    def delete_dataset(self, dataset_id: str, *, with_releases: bool = False) -> bool:
        """Remove a dataset, its uploaded file and whatever else derives from the data.

        Its runs stay (their release bundles are public output) unless
        ``with_releases``, but lose the link to the data and their messages.
        """
        with self.session() as s:
            dataset = s.get(Dataset, dataset_id)
            if dataset is None:
                return False
            upload = self.upload_path(dataset)
            runs = list(s.scalars(select(Run).where(Run.dataset_id == dataset_id)))
            for run in runs:
                if with_releases:
                    self._delete_run(s, run)
                else:
                    run.dataset_id = None
                    run.message = ""
            s.delete(dataset)
        upload.unlink(missing_ok=True)
        return True

    def delete_run(self, run_id: str) -> bool:
        """Remove a run, its release row and its folder."""
        with self.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                return False
            self._delete_run(s, run)
        return True

    def _delete_run(self, s: Session, run: Run) -> None:
        for release in s.scalars(select(Release).where(Release.run_id == run.id)):
            s.delete(release)
        s.delete(run)
        shutil.rmtree(self.run_dir(run.id), ignore_errors=True)

    def recover(self) -> None:
        """After a restart: runs that were active failed; stray files are removed."""
        with self.session() as s:
            for run in s.scalars(select(Run).where(Run.status.in_(ACTIVE))):
                run.status = "failed"
                run.message = "The app stopped while this run was in progress; start it again."
                shutil.rmtree(self.run_dir(run.id), ignore_errors=True)
            known = {d.file for d in s.scalars(select(Dataset))}
            runs = {r.id for r in s.scalars(select(Run))}
        for path in self.settings.uploads.iterdir():
            if path.name not in known:  # an upload cut off before it was registered
                path.unlink(missing_ok=True)
        for path in self.settings.runs.iterdir():
            if path.name not in runs:
                shutil.rmtree(path, ignore_errors=True)
