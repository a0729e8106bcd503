"""Fixtures of the `dspxc optimize` tests: a throwaway PostgreSQL server (session) and a
fresh database on it per test, skipped with the install hint when PostgreSQL is absent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fixtures.postgres import INSTALL_HINT, PostgresServer, find_bindir


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(INSTALL_HINT)
    server = PostgresServer(bindir).start()
    try:
        yield server
    finally:
        server.stop()
