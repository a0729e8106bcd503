"""`GuardHook`: the runtime's spend hook (`dspx_lang.runtime.metering.SpendHook`) backed by a
trial's `SpendGuard`, so an evaluation's every LM call is authorized and charged in the study's
ledger.

Contract:
- `authorize(call)` holds `call.cost_bound_usd` (the runtime's upper bound: request bytes and
  `max_tokens` at the model's prices) and returns the hold; `SpendCapReached` when the cap
  leaves no room (the runtime turns it into `EvaluationStopped`; the guard's `cap_reached`
  tells the optimizer the trial was cut short). A call whose bound is unknown (no price, no
  output limit) holds nothing: only its measured cost, if any, is charged.
- `settle(hold, response)`: a cache hit costs nothing; a response is charged its `cost_usd`,
  or its whole hold when the cost is unknown; a failed or cancelled call (None) is charged
  its whole hold, since a failed request may still have been billed.
Runtime types are only annotations here: importing this module loads neither the runtime
nor optuna.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dspx_lang.optimize.spend import Hold, SpendGuard, to_usd

if TYPE_CHECKING:
    from dspx_lang.runtime.lm import LMResponse
    from dspx_lang.runtime.metering import PendingCall


class GuardHook:
    def __init__(self, guard: SpendGuard) -> None:
        self.guard = guard

    async def authorize(self, call: PendingCall) -> Hold:
        return await self.guard.authorize(call.cost_bound_usd or 0.0)

    def settle(self, ticket: object, response: LMResponse | None) -> None:
        assert isinstance(ticket, Hold), "settle takes what authorize returned"
        if response is not None and response.cached:
            cost = 0.0
        elif response is not None and response.cost_usd is not None:
            cost = response.cost_usd
        else:
            cost = to_usd(ticket.units)
        self.guard.charge(cost, ticket)
