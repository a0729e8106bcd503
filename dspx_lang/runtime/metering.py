"""Metering an evaluation's LM calls: per-example totals and the spend hook.

Contract:
- `MeteredClient(inner, spend)` is an `LMClient` that sends every call through `inner`
  (its cache, connection pool and per-model limits) and, around each call:
  1. awaits `spend.authorize(PendingCall)` first, when a hook is given; any exception it
     raises becomes `EvaluationStopped` (the call is not sent, the example is not scored);
  2. after the call, adds the response to the current example's `CallTally` (a context
     variable the evaluation sets per example, inherited by the tasks of a multi-step
     program) and calls `spend.settle(ticket, response)`; `response` is None when the
     call failed or was cancelled (a failed request may still have been billed).
  It serves async calls only (the runtime's programs make no others); closing it never
  closes `inner`.
- `PendingCall.cost_bound_usd` is an upper bound of the call's cost when the model's prices
  and an output limit are known: prompt tokens are bounded by the request body's UTF-8
  bytes (a BPE token covers at least one byte) plus a per-message allowance, completion
  tokens by `max_tokens` (the request's, the model's, else the price map's output limit).
- `SpendLimit(max_usd)` is a ready hook: it refuses a call when the money spent plus the
  bounds of calls in flight plus this call's bound would pass `max_usd` (or, for a call
  with no bound, when the spend already reached it).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dspx_lang.modelfacts import lookup
from dspx_lang.runtime.errors import DspxBudgetError, DspxConfigError, DspxError
from dspx_lang.runtime.lm import LMClient, LMRequest, LMResponse, LMStats, ModelSpec
from dspx_lang.runtime.lm.wire import encode_body, request_params

__all__ = [
    "CallTally",
    "EvaluationStopped",
    "MeteredClient",
    "PendingCall",
    "SpendHook",
    "SpendLimit",
    "current_tally",
]

_PER_MILLION = 1_000_000
_MESSAGE_ALLOWANCE = 16  # chat-template tokens a provider may add per message


class EvaluationStopped(DspxError):
    """The spend hook refused a call; `cause` is what it raised."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(frozen=True, slots=True)
class PendingCall:
    """An LM call about to be sent (what `SpendHook.authorize` is asked about)."""

    model: ModelSpec
    request: LMRequest
    cost_bound_usd: float | None


class SpendHook(Protocol):
    """Told about every LM call of an evaluation; see the module docstring."""

    async def authorize(self, call: PendingCall) -> object:
        """Before the call: return a ticket for `settle`, or raise to stop the evaluation."""
        ...

    def settle(self, ticket: object, response: LMResponse | None) -> None:
        """After the call (None: it failed or was cancelled)."""
        ...


@dataclass(slots=True)
class CallTally:
    """One example's LM calls so far (cache hits cost nothing)."""

    calls: int = 0
    failed_calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cost_known: bool = True

    def add(self, response: LMResponse) -> None:
        self.calls += 1
        self.prompt_tokens += response.usage.prompt_tokens
        self.completion_tokens += response.usage.completion_tokens
        if response.cached:
            self.cache_hits += 1
        elif response.cost_usd is None:
            self.cost_known = False
        else:
            self.cost_usd += response.cost_usd


_TALLY: contextvars.ContextVar[CallTally | None] = contextvars.ContextVar(
    "dspx_eval_tally", default=None
)


def current_tally() -> contextvars.ContextVar[CallTally | None]:
    """The context variable holding the running example's tally."""
    return _TALLY


class MeteredClient(LMClient):
    """An `LMClient` view of `inner` that meters calls; see the module docstring."""

    def __init__(self, inner: LMClient, spend: SpendHook | None = None) -> None:
        super().__init__(cache=False)
        self._inner = inner
        self._spend = spend

    @property
    def cache_path(self) -> Path | None:
        return self._inner.cache_path

    def stats(self) -> LMStats:
        return self._inner.stats()

    def complete(self, model: ModelSpec, request: LMRequest, *, cache: bool = True) -> LMResponse:
        raise DspxConfigError("a metered evaluation client serves async calls only (acomplete)")

    async def acomplete(
        self, model: ModelSpec, request: LMRequest, *, cache: bool = True
    ) -> LMResponse:
        spend = self._spend
        ticket: object = None
        if spend is not None:
            try:
                ticket = await spend.authorize(
                    PendingCall(model, request, cost_bound(model, request))
                )
            except Exception as exc:  # the hook's refusal, whatever its type, stops the run
                raise EvaluationStopped(
                    f"the spend hook stopped the evaluation: {exc}", exc
                ) from exc
        try:
            response = await self._inner.acomplete(model, request, cache=cache)
        except BaseException:
            tally = _TALLY.get()
            if tally is not None:
                tally.failed_calls += 1
            if spend is not None:
                spend.settle(ticket, None)
            raise
        tally = _TALLY.get()
        if tally is not None:
            tally.add(response)
        if spend is not None:
            spend.settle(ticket, response)
        return response

    def close(self) -> None:
        """Nothing to close: the calls went through `inner`, which this view does not own."""


def cost_bound(model: ModelSpec, request: LMRequest) -> float | None:
    """An upper bound of one call's cost in USD, or None (see the module docstring)."""
    facts = lookup(model.model_id)
    input_cost = (
        model.input_cost if model.input_cost is not None else (facts.input_cost if facts else None)
    )
    output_cost = (
        model.output_cost
        if model.output_cost is not None
        else (facts.output_cost if facts else None)
    )
    params = request_params(model, request)
    max_tokens = params.get("max_tokens") or (facts.max_output_tokens if facts else None)
    if input_cost is None or output_cost is None or not isinstance(max_tokens, int):
        return None
    prompt = len(encode_body(model, request, params)) + _MESSAGE_ALLOWANCE * len(request.messages)
    return (prompt * input_cost + max_tokens * output_cost) / _PER_MILLION


class SpendLimit:
    """A `SpendHook` that keeps an evaluation under `max_usd`; see the module docstring."""

    def __init__(self, max_usd: float) -> None:
        if not max_usd >= 0:
            raise DspxConfigError(f"a spend limit must be a number >= 0, not {max_usd!r}")
        self.max_usd = max_usd
        self.spent = 0.0
        self.held = 0.0

    async def authorize(self, call: PendingCall) -> object:
        bound = call.cost_bound_usd
        over = (
            self.spent >= self.max_usd
            if bound is None
            else self.spent + self.held + bound > self.max_usd
        )
        if over:
            raise DspxBudgetError(
                f"the next call could pass the spend limit ${self.max_usd:g} "
                f"(spent ${self.spent:.6f}, ${self.held:.6f} held by calls in flight)"
            )
        self.held += bound or 0.0
        return bound or 0.0

    def settle(self, ticket: object, response: LMResponse | None) -> None:
        bound = ticket if isinstance(ticket, float) else 0.0
        self.held = max(0.0, self.held - bound)
        if response is not None and not response.cached:
            self.spent += response.cost_usd if response.cost_usd is not None else bound
