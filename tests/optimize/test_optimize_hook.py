"""`GuardHook` in the runtime's metered client, over real HTTP to the fixture LM server: every
call is authorized in the study's ledger before it is sent and charged after; a call the cap
has no room for is never sent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import pytest
from fixtures.lm_server import FakeLMServer

from dspx_lang.optimize import SpendCapReached, SpendGuard
from dspx_lang.optimize.hook import GuardHook
from dspx_lang.optimize.ledger import Claim, Identity, Ledger, Pick
from dspx_lang.optimize.spend import to_units, to_usd
from dspx_lang.optimize.storage import open_storage
from dspx_lang.runtime.lm import LMClient, LMRequest, ModelSpec
from dspx_lang.runtime.metering import EvaluationStopped, MeteredClient


def test_calls_are_charged_in_the_ledger_and_the_cap_stops_one_before_it_is_sent(
    sqlite_url: str,
    lm_server: FakeLMServer,
    lm_model: Callable[..., ModelSpec],
    lm_client: LMClient,
) -> None:
    cap = 0.05
    storage = open_storage(sqlite_url)
    ledger = Ledger(storage.engine, "hook", Identity.current())
    ledger.register()
    claim = ledger.claim(lambda taken: Pick("k", 0), trials=1, cap=to_units(cap, up=False))
    assert isinstance(claim, Claim)

    async def top_up(units: int) -> bool | None:
        return ledger.top_up(claim.slot, units, to_units(cap, up=False))

    guard = SpendGuard(top_up, claim.units)
    client = MeteredClient(lm_client, GuardHook(guard))
    model = lm_model(input_cost=100.0, output_cost=200.0)  # USD per million tokens
    costs: list[float] = []

    async def call_until_refused() -> BaseException:
        for i in range(1000):
            request = LMRequest(messages=[{"role": "user", "content": f"q{i}"}], max_tokens=50)
            try:
                response = await client.acomplete(model, request, cache=False)
            except EvaluationStopped as stopped:
                return stopped
            assert response.cost_usd is not None
            costs.append(response.cost_usd)
        raise AssertionError("the cap never stopped the calls")

    stopped = asyncio.run(call_until_refused())
    assert isinstance(stopped.cause, SpendCapReached)
    assert guard.cap_reached
    assert len(lm_server.chat_requests) == len(costs) > 1  # the refused call was not sent
    assert guard.spent == pytest.approx(sum(costs))
    assert guard.held == 0
    assert ledger.totals().total <= to_units(cap, up=False)
    ledger.settle(claim.slot, "stopped", guard.total_units)
    settled = Decimal(ledger.totals().settled) / 10**9
    assert settled == pytest.approx(Decimal(repr(sum(costs))), abs=Decimal("1e-9") * len(costs))
    assert to_usd(ledger.totals().total) <= cap
