"""Study storage: one database holds optuna's study and the optimizer's own ledger tables.

Contract:
- `open_storage(url)` returns a `StudyStorage` with optuna's `RDBStorage` and a SQLAlchemy
  engine for the ledger (`spend.py`), both on the same database. Schema creation is
  serialised across processes (an exclusive `flock` on `<db>.lock` for SQLite, a session
  advisory lock on PostgreSQL), so any number of workers may start at once on a new database.
- SQLite: every transaction, optuna's included, starts with `BEGIN IMMEDIATE` (it takes the
  write lock up front, so two processes never deadlock upgrading a read lock), the journal is
  WAL and a busy connection waits up to `SQLITE_BUSY_S`. Only file databases are accepted.
- PostgreSQL: `postgresql://` and `postgres://` mean psycopg 3 (`postgresql+psycopg://`).
- `redact(url)` is the only form of a URL that reaches messages, logs and artifacts.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dspx_lang.optimize.model import StorageError

if TYPE_CHECKING:
    from optuna.storages import RDBStorage
    from sqlalchemy.engine import Engine

SQLITE_BUSY_S = 120.0
ADVISORY_KEY = 0x6473_7078  # "dspx": serialises schema creation on PostgreSQL


def default_storage_url(artifact: str | Path) -> str:
    """The SQLite study next to an artifact: `qa.opt.json` -> `sqlite:///.../qa.opt.study.db`."""
    path = Path(artifact).resolve()
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return f"sqlite:///{path.with_name(stem + '.study.db')}"


def normalise_url(url: str) -> str:
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg://" + url[len(bare) :]
    return url


def redact(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable storage URL>"


def _parse(url: str) -> Any:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url)
    except ArgumentError:
        raise StorageError(
            f"{redact(url)} is not a storage URL; use sqlite:///path/to/study.db or "
            "postgresql+psycopg://user:password@host:5432/database"
        ) from None


@dataclass
class StudyStorage:
    """The two handles on one study database (see the module docstring)."""

    url: str
    optuna: RDBStorage
    engine: Engine
    sqlite: bool

    @property
    def shown(self) -> str:
        return redact(self.url)

    def close(self) -> None:
        self.engine.dispose()
        self.optuna.engine.dispose()


def open_storage(url: str) -> StudyStorage:
    """Open (creating if needed) the study database at `url`."""
    from optuna.storages import RDBStorage
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    from dspx_lang.optimize.ledger import create_tables

    url = normalise_url(url)
    parsed = _parse(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    kwargs: dict[str, Any] = {}
    if sqlite:
        database = parsed.database
        if not database or database == ":memory:" or parsed.query.get("mode") == "memory":
            raise StorageError("the study needs a file: use sqlite:///path/to/study.db")
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["creator"] = functools.partial(_sqlite_connect, database)
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except ImportError as exc:
        raise StorageError(
            f"cannot open the study storage {redact(url)}: {exc}; for PostgreSQL install "
            "`psycopg[binary]` (pip install 'dspx[postgres]')"
        ) from None
    try:
        if sqlite:
            _immediate_transactions(engine)
        with _creation_lock(engine, parsed, sqlite):
            optuna_storage = RDBStorage(url, engine_kwargs=dict(kwargs))
            if sqlite:
                # From here on (schema creation ran under the lock, statement by statement).
                _immediate_transactions(optuna_storage.engine)
            create_tables(engine)
    except (SQLAlchemyError, OSError) as exc:
        raise StorageError(
            f"cannot open the study storage {redact(url)}: {_reason(exc)}; check that the "
            "database server is running and the URL (user, host, port, database) is right"
        ) from None
    return StudyStorage(url, optuna_storage, engine, sqlite)


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _sqlite_connect(database: str) -> sqlite3.Connection:
    # Autocommit at the driver level (isolation_level None): the engine's "begin" hook
    # decides how a transaction starts. WAL lets readers work while a writer commits;
    # synchronous NORMAL is durable in WAL mode short of a power cut.
    conn = sqlite3.connect(
        database, timeout=SQLITE_BUSY_S, check_same_thread=False, isolation_level=None
    )
    conn.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_S * 1000)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _immediate_transactions(engine: Engine) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextlib.contextmanager
def _creation_lock(engine: Engine, parsed: Any, sqlite: bool) -> Iterator[None]:
    if sqlite:
        import fcntl

        fd = os.open(f"{parsed.database}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock
        return
    if parsed.get_backend_name() != "postgresql":
        yield
        return
    from sqlalchemy import text

    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_KEY})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            conn.commit()


__all__ = [
    "StudyStorage",
    "default_storage_url",
    "normalise_url",
    "open_storage",
    "redact",
]
