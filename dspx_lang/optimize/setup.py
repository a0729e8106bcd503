"""Run-once setup phases of a study (demo bootstrapping, instruction proposals, the baseline
evaluation), shared by every worker and paid from the study's spend ledger.

Contract:
- `SetupWorker.phase(name, fingerprint, forecast, work)` returns the JSON object the phase
  produced for this study: read from the study database when some worker already ran it,
  else produced now by `await work(guard)` and stored (table `dspx_setup`, next to the
  ledger's), so a rerun or a second worker never redoes it and every trial of the study sees
  the same demos and instructions. A phase stored with another `fingerprint` (its inputs:
  teacher, data, seed...) is a `StudyMismatchError` that says to use another study name.
- At most one worker runs a phase at a time: it claims a ledger slot keyed `setup:<name>`
  reserving `forecast` USD under `cap`, in the same locked transaction as every trial claim;
  the others wait for its row. `work` spends through the slot's `SpendGuard` (authorize
  before each call, charge after); the slot is settled as `stopped` with the guard's total,
  so the money counts in the study's spend and the slot never counts as a trial.
- When the cap has no room for the phase's forecast, or the guard refuses a call, the phase
  raises `SpendCapReached` and stores nothing. A worker that died mid-phase is reaped like
  any other (its slot, which has no trial, is reconciled at 0 spent: the redo sends the same
  requests, which the response cache then answers for free), and the phase is claimed again.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Column, Float, MetaData, String, Table, Text, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from dspx_lang.optimize.ledger import Claim, Pick, Refusal
from dspx_lang.optimize.model import SpendCapReached, StudyMismatchError
from dspx_lang.optimize.spend import SpendGuard, to_units, to_usd
from dspx_lang.optimize.worker import StudyWorker

SETUP_META = MetaData()
SETUP = Table(
    "dspx_setup",
    SETUP_META,
    Column("study", String(512), primary_key=True),
    Column("phase", String(64), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("data", Text, nullable=False),
    Column("spent", Float, nullable=False),
)

Work = Callable[[SpendGuard], Awaitable[dict[str, Any]]]


class SetupWorker(StudyWorker):
    """A worker that runs setup phases (use `async with`); see the module docstring."""

    def __init__(self, *args: Any, cap_usd: float | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cap_usd = cap_usd

    async def __aenter__(self) -> SetupWorker:
        await self._open()
        await self._db_call(_create_table, self)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._close()

    async def stored(self, name: str) -> tuple[str, dict[str, Any], float] | None:
        """(fingerprint, data, spent) of a finished phase, or None."""
        return await self._db_call(self._read, name)

    async def phase(
        self, name: str, fingerprint: str, forecast: float, work: Work
    ) -> dict[str, Any]:
        key = f"setup:{name}"
        units = to_units(forecast)
        cap = None if self.cap_usd is None else to_units(self.cap_usd, up=False)

        def choose(taken: frozenset[str]) -> Pick | Refusal:
            return Refusal("taken", False) if key in taken else Pick(key, units)

        while True:
            done = await self._done(name, fingerprint)
            if done is not None:
                return done
            claim = await self._db_call(self.ledger.claim, choose, trials=sys.maxsize, cap=cap)
            if isinstance(claim, Claim):
                break
            if claim.reason == "spend" and claim.final:
                raise SpendCapReached(
                    f"the {name} phase needs about ${forecast:.4f}, more than what max_spend "
                    "leaves in this study; raise --max-spend"
                )
            if claim.reason == "dead":
                raise SpendCapReached("this worker lost its lease on the study; rerun")
            await self._wait()
            await self._reap()
        slot = claim.slot

        async def top_up(extra: int) -> bool | None:
            return await self._db_call(self.ledger.top_up, slot, extra, cap)

        guard = SpendGuard(top_up, units)
        try:
            done = await self._done(name, fingerprint)  # finished by another worker meanwhile
            if done is not None:
                return done
            data = await work(guard)
            if guard.cap_reached:
                raise SpendCapReached(
                    f"the spend cap stopped the {name} phase; raise --max-spend and rerun"
                )
            await self._db_call(self._write, name, fingerprint, data, to_usd(guard.total_units))
            return await self._done(name, fingerprint) or data
        finally:
            await asyncio.shield(
                self._db_call(self.ledger.settle, slot, "stopped", guard.total_units)
            )

    async def _done(self, name: str, fingerprint: str) -> dict[str, Any] | None:
        found = await self.stored(name)
        if found is None:
            return None
        stored_fp, data, _ = found
        if stored_fp != fingerprint:
            raise StudyMismatchError(
                f"study '{self.study_name}' ran its {name} phase with other inputs (teacher, "
                "data, seed or candidate count changed); start a new study with --study NAME, "
                "or delete the study database to start over"
            )
        return data

    def _read(self, name: str) -> tuple[str, dict[str, Any], float] | None:
        with self.ledger.engine.begin() as conn:
            row = conn.execute(
                select(SETUP.c.fingerprint, SETUP.c.data, SETUP.c.spent).where(
                    SETUP.c.study == self.study_name, SETUP.c.phase == name
                )
            ).first()
        if row is None:
            return None
        return str(row.fingerprint), json.loads(row.data), float(row.spent)

    def _write(self, name: str, fingerprint: str, data: dict[str, Any], spent: float) -> None:
        try:
            with self.ledger.engine.begin() as conn:
                conn.execute(
                    SETUP.insert().values(
                        study=self.study_name,
                        phase=name,
                        fingerprint=fingerprint,
                        data=json.dumps(data, ensure_ascii=False),
                        spent=spent,
                    )
                )
        except IntegrityError:
            pass  # another worker stored it first: theirs is read back


def _create_table(worker: SetupWorker) -> None:
    try:
        SETUP_META.create_all(worker.ledger.engine)
    except SQLAlchemyError:
        # Another worker created it at the same moment; a second look must find it.
        SETUP_META.create_all(worker.ledger.engine)
