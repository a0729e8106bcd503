"""`StudyWorker`: one process's connection to a study, its heartbeat and its reaping.

Contract: `_open()` opens the storage (`storage.open_storage`), the optuna study
(`study.StudyAccess`, checking it was made for these objectives and variables) and the
ledger, registers this worker, starts its heartbeat thread and reaps dead workers once.
Optuna calls run on one dedicated thread and ledger calls on another (`_opt_call`,
`_db_call`), so the event loop never blocks on the database and optuna is never used from
two threads. The heartbeat runs on its own thread, so a busy event loop does not lose the
lease; when the ledger says this worker was declared dead, `_lost` is set. `_close()`
marks the worker stopped and releases every connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from dspx_lang.optimize.ledger import Identity, Ledger
from dspx_lang.optimize.model import Lease, Objective, SamplerName
from dspx_lang.optimize.reaper import reap
from dspx_lang.optimize.records import Summary, summarize
from dspx_lang.optimize.storage import StudyStorage, open_storage
from dspx_lang.optimize.study import StudyAccess
from dspx_lang.space.solve import Space

P = ParamSpec("P")
R = TypeVar("R")


class StudyWorker:
    def __init__(
        self,
        space: Space,
        objectives: Sequence[Objective],
        *,
        storage: str,
        study: str,
        sampler: SamplerName,
        seed: int,
        trials: int,
        lease: Lease,
    ) -> None:
        self.space = space
        self.vars = space.vars
        self.objectives = tuple(objectives)
        self.storage_url = storage
        self.study_name = study
        self.sampler: SamplerName = sampler
        self.seed = seed
        self.trials = trials
        self.lease = lease
        self.me = Identity.current()
        self._storage: StudyStorage | None = None
        self._ledger: Ledger | None = None
        self._access: StudyAccess | None = None
        self._db = ThreadPoolExecutor(1, thread_name_prefix="dspx-ledger")
        self._opt = ThreadPoolExecutor(1, thread_name_prefix="dspx-optuna")
        self._cond = asyncio.Condition()
        self._registered = False
        self._lost = threading.Event()
        self._beat_stop = threading.Event()
        self._last_reap = -math.inf

    # ------------------------------------------------------------- plumbing

    @property
    def ledger(self) -> Ledger:
        assert self._ledger is not None
        return self._ledger

    @property
    def access(self) -> StudyAccess:
        assert self._access is not None
        return self._access

    async def _in(
        self, pool: ThreadPoolExecutor, fn: Callable[P, R], *a: P.args, **k: P.kwargs
    ) -> R:
        return await asyncio.get_running_loop().run_in_executor(pool, lambda: fn(*a, **k))

    async def _db_call(self, fn: Callable[P, R], *a: P.args, **k: P.kwargs) -> R:
        return await self._in(self._db, fn, *a, **k)

    async def _opt_call(self, fn: Callable[P, R], *a: P.args, **k: P.kwargs) -> R:
        return await self._in(self._opt, fn, *a, **k)

    async def _connect(self) -> None:
        self._storage = await self._db_call(open_storage, self.storage_url)
        self._ledger = Ledger(self._storage.engine, self.study_name, self.me)
        self._access = StudyAccess(
            self._storage,
            self.study_name,
            self.vars,
            self.objectives,
            self.sampler,
            seed=self.seed,
            trials=self.trials,
        )
        await self._opt_call(self._access.open)

    async def _open(self) -> None:
        await self._connect()
        await self._db_call(self.ledger.register)
        self._registered = True
        threading.Thread(target=self._beat, name="dspx-heartbeat", daemon=True).start()
        await self._reap(force=True)

    async def _close(self) -> None:
        self._beat_stop.set()
        try:
            if self._registered and not self._lost.is_set():
                await self._db_call(self.ledger.stop)
        finally:
            if self._storage is not None:
                await self._db_call(self._storage.close)
            self._db.shutdown(wait=False)
            self._opt.shutdown(wait=False)

    def _beat(self) -> None:
        while not self._beat_stop.wait(self.lease.heartbeat_s):
            try:
                alive = self.ledger.beat()
            except Exception:
                continue  # the database blinked; the next beat retries within the grace
            if not alive:
                self._lost.set()
                return

    async def _reap(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_reap < self.lease.heartbeat_s:
            return
        self._last_reap = now
        await reap(self.ledger, self.access, self.lease.grace_s, self._db_call, self._opt_call)

    async def _wait(self) -> None:
        """Until a local trial ends, or a heartbeat interval passes (other workers)."""
        async with self._cond:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._cond.wait(), self.lease.heartbeat_s)

    async def _changed(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def _summary(self) -> Summary:
        trials = await self._opt_call(self.access.all)
        return summarize(self.vars, trials, self.objectives)
