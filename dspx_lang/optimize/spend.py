"""Money: exact units, and `SpendGuard`, the per-trial wallet an evaluation spends from.

Contract:
- Amounts are integers of `UNITS_PER_USD` (nano-dollars), read from a float by the decimal its
  `repr` shows: a spend is rounded up, a cap down, and sums are exact.
- A trial starts holding a reservation in the study's ledger (its forecast). `authorize(usd)`
  before an LM call holds `usd` (an upper bound of the call's cost) inside the reservation,
  growing the reservation in the ledger when needed (atomically, under the cap) and raising
  `SpendCapReached` when the cap leaves no room. `charge(usd, hold)` after the call records
  what it cost and releases the hold. `call(bound)` does both around a block.
- The guard's `total` (spent plus held) is what the trial's ledger slot is settled with.
  If every call is authorized with a true upper bound before it is sent, the money actually
  spent is at most the ledger's total, which is at most the cap. A charge above its hold
  (the bound was wrong) is recorded anyway, counted in `overrun`, and must be covered by
  the reservation before anything else is authorized.
- Use a guard from the event loop that runs the trial (not from other threads).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from dspx_lang.optimize.model import OptimizeError, SpendCapReached

UNITS_PER_USD = 10**9


def to_units(usd: float, *, up: bool = True) -> int:
    """USD as whole nano-dollars, rounded up (spend) or down (`up=False`: a cap)."""
    if not (isinstance(usd, int | float) and math.isfinite(usd) and usd >= 0):
        raise OptimizeError(f"an amount of money must be a finite number >= 0, not {usd!r}")
    exact = Decimal(repr(float(usd))) * UNITS_PER_USD
    return int(exact.to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR))


def to_usd(units: int) -> float:
    return units / UNITS_PER_USD


TopUp = Callable[[int], Awaitable[bool | None]]
"""Grow the trial's reservation by `units`: True done, False over the cap, None reaped."""


@dataclass(slots=True)
class Hold:
    """An authorization: `units` held for one call until it is charged."""

    units: int
    charged: bool = False


class SpendGuard:
    """A trial's wallet inside its ledger reservation (see the module docstring)."""

    def __init__(self, top_up: TopUp, reserved_units: int) -> None:
        self._top_up = top_up
        self._initial = reserved_units
        self._reserved = reserved_units
        self._spent = 0
        self._held = 0
        self._overrun = 0
        self._lock = asyncio.Lock()
        self.cap_reached = False
        """Set when an authorization was refused: the trial's results are partial."""
        self.reaped = False
        """Set when the ledger says this worker lost its lease (another worker redoes it)."""

    # ------------------------------------------------------------- amounts

    @property
    def spent(self) -> float:
        return to_usd(self._spent)

    @property
    def held(self) -> float:
        return to_usd(self._held)

    @property
    def reserved(self) -> float:
        return to_usd(self._reserved)

    @property
    def remaining(self) -> float:
        """What can still be authorized without growing the reservation."""
        return to_usd(max(0, self._reserved - self._spent - self._held))

    @property
    def overrun(self) -> float:
        """Charged beyond the holds' bounds (the bounds given were too low)."""
        return to_usd(self._overrun)

    @property
    def total_units(self) -> int:
        """Spent plus held: an authorized call never charged is counted as fully spent."""
        return self._spent + self._held

    # ------------------------------------------------------------- use

    async def authorize(self, usd: float) -> Hold:
        """Hold `usd` (an upper bound of one call's cost); raise `SpendCapReached` if the
        cap leaves no room. Pass the returned hold to `charge`."""
        units = to_units(usd)
        async with self._lock:
            await self._cover(units)
            self._held += units
        return Hold(units)

    async def ensure(self, usd: float) -> None:
        """Make sure `usd` more can be authorized (used before retrying an attempt)."""
        async with self._lock:
            await self._cover(to_units(usd))

    def charge(self, usd: float, hold: Hold | None = None) -> None:
        """Record what a call cost; releases `hold` (a charge without a hold is an overrun)."""
        self._charge(to_units(usd), hold)

    def _charge(self, units: int, hold: Hold | None) -> None:
        bound = 0
        if hold is not None:
            if hold.charged:
                raise OptimizeError("this authorization was already charged")
            hold.charged = True
            bound = hold.units
            self._held -= hold.units
        self._spent += units
        self._overrun += max(0, units - bound)

    @asynccontextmanager
    async def call(self, bound: float) -> AsyncIterator[Charge]:
        """Authorize `bound` for the block; charge what the block reports with
        `charge.add(usd)`, or the whole bound if the block raises without reporting
        (a failed request may still have been billed)."""
        hold = await self.authorize(bound)
        charge = Charge()
        try:
            yield charge
        except BaseException:
            self._charge(charge.units if charge.reported else hold.units, hold)
            raise
        self._charge(charge.units if charge.reported else hold.units, hold)

    # ------------------------------------------------------------- internals

    async def _cover(self, units: int) -> None:
        need = self._spent + self._held + units - self._reserved
        if need <= 0:
            return
        if self.cap_reached:
            raise SpendCapReached(self._refusal())
        # Grow by a quarter of the first reservation at least: fewer ledger round trips.
        for amount in dict.fromkeys((max(need, self._initial // 4), need)):
            granted = await self._top_up(amount)
            if granted is None:
                self.reaped = self.cap_reached = True
                raise SpendCapReached(
                    "this worker lost its lease on the study (no heartbeat within the grace "
                    "period); its trials are redone by the other workers"
                )
            if granted:
                self._reserved += amount
                return
        self.cap_reached = True
        raise SpendCapReached(self._refusal())

    def _refusal(self) -> str:
        return (
            "the spend cap leaves no room for this call (the run stops; raise max_spend and "
            "rerun the same command to continue)"
        )


class Charge:
    """What the block of `SpendGuard.call` reports it spent."""

    __slots__ = ("reported", "units")

    def __init__(self) -> None:
        self.units = 0
        self.reported = False

    def add(self, usd: float) -> None:
        self.units += to_units(usd)
        self.reported = True
