"""Fixtures of the optimizer tests: study storages on SQLite files and on a real PostgreSQL.

- `pg_server` (session): one throwaway PostgreSQL server (`fixtures.postgres`), skipped
  with the install hint when the binaries are absent.
- `pg_url`: a fresh database on it for this test.
- `sqlite_url`: a fresh SQLite file in the test's temporary directory.
- `storage_url`: parametrised over both ("sqlite", "postgres").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.postgres import INSTALL_HINT, PostgresServer, find_bindir


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(INSTALL_HINT)
    server = PostgresServer(bindir).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    return pg_server.database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'study.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'study.db'}"
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.database()
