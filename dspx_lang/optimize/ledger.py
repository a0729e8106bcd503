"""The ledger: who runs which trial and how much money is spent or reserved, per study.

Three tables of our own, next to optuna's in the study database:
- `dspx_ledger_studies`: one row per study, the lock every money/claim transaction takes
  (`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite every transaction is `BEGIN IMMEDIATE`).
- `dspx_ledger_workers`: one row per worker process: host, pid, heartbeat (database clock).
- `dspx_ledger_slots`: one row per claimed trial slot: configuration key, optuna trial,
  state (`running` `done` `failed` `stopped` `dead`), `reserved` and `spent` in money units.

Invariants (each holds at every commit):
- total = sum(spent of settled slots) + sum(max(reserved, spent) of running slots); a claim or
  top-up commits only if the new total is <= the caller's cap.
- done + running <= trials for every claim (the caller's `trials`).
- A configuration key has at most one `done` or `running` slot: a claim never picks a taken key.
- A slot is settled once by its worker; a dead worker's running slot is settled by whoever
  reaps it (`resolve`), and only a late settle by the presumed-dead worker itself may replace
  that spend, by the true amount it measured.
Methods are blocking; callers run them in a worker thread.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    func,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

META = MetaData()
STUDIES = Table(
    "dspx_ledger_studies",
    META,
    Column("study", String(512), primary_key=True),
    Column("created", Float, nullable=False),
)
WORKERS = Table(
    "dspx_ledger_workers",
    META,
    Column("worker", String(64), primary_key=True),
    Column("study", String(512), nullable=False, index=True),
    Column("host", String(300), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("pid_start", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("started", Float, nullable=False),
    Column("beat", Float, nullable=False),
)
SLOTS = Table(
    "dspx_ledger_slots",
    META,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("study", String(512), nullable=False),
    Column("worker", String(64), nullable=False),
    Column("config_key", Text, nullable=False),
    Column("trial_id", Integer, nullable=True),
    Column("trial_number", Integer, nullable=True),
    Column("state", String(16), nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("spent", BigInteger, nullable=False),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Index("ix_dspx_ledger_slots_study_state", "study", "state"),
)

SlotState = Literal["running", "done", "failed", "stopped", "dead"]
SETTLED: tuple[SlotState, ...] = ("done", "failed", "stopped", "dead")


def create_tables(engine: Engine) -> None:
    META.create_all(engine)


# ------------------------------------------------------------------ identity


@dataclass(frozen=True, slots=True)
class Identity:
    """A worker: a fresh id per process, and where it runs (to detect a dead process)."""

    worker: str
    host: str
    pid: int
    pid_start: str

    @classmethod
    def current(cls) -> Identity:
        pid = os.getpid()
        return cls(uuid.uuid4().hex, _host(), pid, _start_time(pid))


def _host() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
    except OSError:
        boot = ""
    # The boot id tells a rebooted machine (whose old pids mean nothing) from the same one.
    return f"{socket.gethostname()}/{boot}"


def _start_time(pid: int) -> str:
    """The process start time in clock ticks since boot (Linux), to tell a reused pid."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return ""
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""


def process_alive(pid: int, pid_start: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    return not pid_start or _start_time(pid) in ("", pid_start)


# ------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class Totals:
    done: int
    running: int
    failed: int
    stopped: int
    dead: int
    settled: int
    """Units spent by settled slots."""
    outstanding: int
    """Units held by running slots (their reservation, or their spend if larger)."""

    @property
    def total(self) -> int:
        return self.settled + self.outstanding


@dataclass(frozen=True, slots=True)
class Pick:
    """The configuration to claim, its forecast, and the optuna trial already made for it
    (a sampler's proposal), if any."""

    key: str
    units: int
    trial_id: int | None = None
    trial_number: int | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    slot: int
    key: str
    units: int


RefusalReason = Literal["trials", "spend", "exhausted", "taken", "more", "dead"]


@dataclass(frozen=True, slots=True)
class Refusal:
    """No claim. `final`: waiting cannot help (else a running trial may free room)."""

    reason: RefusalReason
    final: bool


@dataclass(frozen=True, slots=True)
class Orphan:
    """A running slot whose worker is dead or stopped, awaiting reconciliation."""

    slot: int
    trial_id: int | None
    reserved: int


Choose = Callable[[frozenset[str]], Pick | Refusal]
"""Given the taken keys, the configuration to claim (or why none)."""


class Ledger:
    """One worker's handle on the ledger of one study (see the module docstring)."""

    def __init__(self, engine: Engine, study: str, me: Identity) -> None:
        self.engine = engine
        self.study = study
        self.me = me

    # ------------------------------------------------------------- plumbing

    @contextmanager
    def _txn(self) -> Iterator[Connection]:
        """A transaction holding the study's lock (SQLite: the database write lock)."""
        with self.engine.begin() as conn:
            conn.execute(
                select(STUDIES.c.study).where(STUDIES.c.study == self.study).with_for_update()
            )
            yield conn

    def _now(self, conn: Connection) -> float:
        """Seconds since the epoch by the database's clock (one clock for every machine)."""
        name = conn.dialect.name
        if name == "sqlite":
            value = conn.execute(text("SELECT (julianday('now') - 2440587.5) * 86400.0"))
        elif name == "postgresql":
            value = conn.execute(text("SELECT EXTRACT(EPOCH FROM clock_timestamp())"))
        else:
            value = conn.execute(select(func.current_timestamp()))
            stamp: Any = value.scalar_one()
            return float(stamp.timestamp())
        return float(value.scalar_one())

    # ------------------------------------------------------------- workers

    def register(self) -> None:
        """Create the study's lock row if needed and record this worker as alive."""
        with self.engine.begin() as conn:
            now = self._now(conn)
            exists = conn.execute(select(STUDIES.c.study).where(STUDIES.c.study == self.study))
            if exists.first() is None:
                try:
                    with conn.begin_nested():
                        conn.execute(STUDIES.insert().values(study=self.study, created=now))
                except IntegrityError:
                    pass  # another worker created it first
        with self._txn() as conn:
            now = self._now(conn)
            me = self.me
            conn.execute(
                WORKERS.insert().values(
                    worker=me.worker,
                    study=self.study,
                    host=me.host,
                    pid=me.pid,
                    pid_start=me.pid_start,
                    state="alive",
                    started=now,
                    beat=now,
                )
            )

    def beat(self) -> bool:
        """Record a heartbeat; False when this worker was declared dead meanwhile."""
        with self.engine.begin() as conn:
            now = self._now(conn)
            result = conn.execute(
                update(WORKERS)
                .where(WORKERS.c.worker == self.me.worker, WORKERS.c.state == "alive")
                .values(beat=now)
            )
            return bool(result.rowcount)

    def stop(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(WORKERS)
                .where(WORKERS.c.worker == self.me.worker, WORKERS.c.state == "alive")
                .values(state="stopped")
            )

    def worker_states(self) -> dict[str, str]:
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(WORKERS.c.worker, WORKERS.c.state).where(WORKERS.c.study == self.study)
            )
            return {r.worker: r.state for r in rows}

    def declare_dead(self, grace_s: float) -> list[Orphan]:
        """Mark silent workers (and, on this machine, workers whose process is gone) dead;
        return every running slot of a worker that is not alive."""
        with self._txn() as conn:
            now = self._now(conn)
            rows = conn.execute(
                select(WORKERS).where(
                    WORKERS.c.study == self.study,
                    WORKERS.c.state == "alive",
                    WORKERS.c.worker != self.me.worker,
                )
            ).all()
            dead = [
                r.worker
                for r in rows
                if now - r.beat > grace_s
                or (r.host == self.me.host and not process_alive(r.pid, r.pid_start))
            ]
            if dead:
                conn.execute(update(WORKERS).where(WORKERS.c.worker.in_(dead)).values(state="dead"))
            alive = select(WORKERS.c.worker).where(
                WORKERS.c.study == self.study, WORKERS.c.state == "alive"
            )
            orphans = conn.execute(
                select(SLOTS.c.id, SLOTS.c.trial_id, SLOTS.c.reserved).where(
                    SLOTS.c.study == self.study,
                    SLOTS.c.state == "running",
                    SLOTS.c.worker.not_in(alive),
                )
            )
            return [Orphan(r.id, r.trial_id, r.reserved) for r in orphans]

    def resolve(self, slot: int, state: SlotState, spent: int) -> None:
        """Settle an orphaned slot (only if still running: reapers may race)."""
        with self._txn() as conn:
            now = self._now(conn)
            conn.execute(
                update(SLOTS)
                .where(SLOTS.c.id == slot, SLOTS.c.state == "running")
                .values(state=state, spent=spent, updated=now)
            )

    def running_trials(self) -> set[int]:
        """Optuna trial ids of running slots (live or not yet reaped)."""
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(SLOTS.c.trial_id).where(
                    SLOTS.c.study == self.study,
                    SLOTS.c.state == "running",
                    SLOTS.c.trial_id.is_not(None),
                )
            )
            return {int(r.trial_id) for r in rows}

    # ------------------------------------------------------------- slots

    def totals(self) -> Totals:
        with self.engine.begin() as conn:
            return self._totals(conn)

    def _totals(self, conn: Connection) -> Totals:
        rows = conn.execute(
            select(
                SLOTS.c.state,
                func.count(),
                func.coalesce(func.sum(SLOTS.c.spent), 0),
                func.coalesce(func.sum(_larger(SLOTS.c.reserved, SLOTS.c.spent)), 0),
            )
            .where(SLOTS.c.study == self.study)
            .group_by(SLOTS.c.state)
        ).all()
        count = {r[0]: int(r[1]) for r in rows}
        spent = {r[0]: int(r[2]) for r in rows}
        held = {r[0]: int(r[3]) for r in rows}
        return Totals(
            done=count.get("done", 0),
            running=count.get("running", 0),
            failed=count.get("failed", 0),
            stopped=count.get("stopped", 0),
            dead=count.get("dead", 0),
            settled=sum(spent.get(s, 0) for s in SETTLED),
            outstanding=held.get("running", 0),
        )

    def claim(
        self,
        choose: Choose,
        *,
        trials: int,
        cap: int | None,
    ) -> Claim | Refusal:
        """Atomically: check the trial count, pick an untaken configuration, check the cap
        with its forecast, and record a running slot holding that reservation."""
        with self._txn() as conn:
            alive = conn.execute(
                select(WORKERS.c.state).where(WORKERS.c.worker == self.me.worker)
            ).scalar_one_or_none()
            if alive != "alive":
                return Refusal("dead", True)
            t = self._totals(conn)
            if t.done + t.running >= trials:
                return Refusal("trials", t.done >= trials)
            taken = frozenset(
                conn.execute(
                    select(SLOTS.c.config_key).where(
                        SLOTS.c.study == self.study, SLOTS.c.state.in_(("running", "done"))
                    )
                ).scalars()
            )
            pick = choose(taken)
            if isinstance(pick, Refusal):
                if pick.reason == "exhausted":
                    # A running trial elsewhere may die and free its configuration.
                    return Refusal("exhausted", t.running == 0)
                return pick
            if cap is not None and t.total + pick.units > cap:
                return Refusal("spend", t.settled + pick.units > cap)
            now = self._now(conn)
            slot = conn.execute(
                SLOTS.insert()
                .values(
                    study=self.study,
                    worker=self.me.worker,
                    config_key=pick.key,
                    trial_id=pick.trial_id,
                    trial_number=pick.trial_number,
                    state="running",
                    reserved=pick.units,
                    spent=0,
                    created=now,
                    updated=now,
                )
                .returning(SLOTS.c.id)
            ).scalar_one()
            return Claim(int(slot), pick.key, pick.units)

    def link(self, slot: int, trial_id: int, trial_number: int) -> bool:
        """Attach the optuna trial now evaluating the slot; False if the slot was reaped."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(SLOTS)
                .where(
                    SLOTS.c.id == slot,
                    SLOTS.c.worker == self.me.worker,
                    SLOTS.c.state == "running",
                )
                .values(trial_id=trial_id, trial_number=trial_number)
            )
            return bool(result.rowcount)

    def top_up(self, slot: int, extra: int, cap: int | None) -> bool | None:
        """Grow a running slot's reservation if the cap allows (None: the slot was reaped)."""
        with self._txn() as conn:
            state = conn.execute(
                select(SLOTS.c.state).where(SLOTS.c.id == slot, SLOTS.c.worker == self.me.worker)
            ).scalar_one_or_none()
            if state != "running":
                return None
            if cap is not None and self._totals(conn).total + extra > cap:
                return False
            conn.execute(
                update(SLOTS)
                .where(SLOTS.c.id == slot)
                .values(reserved=SLOTS.c.reserved + extra, updated=self._now(conn))
            )
            return True

    def settle(self, slot: int, state: SlotState, spent: int) -> bool:
        """Replace the slot's reservation by what it spent. False when the slot had been
        reaped; then only its spend is corrected to the measured amount."""
        with self._txn() as conn:
            now = self._now(conn)
            result = conn.execute(
                update(SLOTS)
                .where(
                    SLOTS.c.id == slot,
                    SLOTS.c.worker == self.me.worker,
                    SLOTS.c.state == "running",
                )
                .values(state=state, spent=spent, updated=now)
            )
            if result.rowcount:
                return True
            conn.execute(
                update(SLOTS)
                .where(
                    SLOTS.c.id == slot, SLOTS.c.worker == self.me.worker, SLOTS.c.state == "dead"
                )
                .values(spent=spent, updated=now)
            )
            return False


def _larger(a: Any, b: Any) -> Any:
    """max(a, b) in SQL that SQLite and PostgreSQL both understand."""
    return case((a > b, a), else_=b)
