"""Showing a run: a rich live panel on a terminal, callbacks for everyone else.

Contract: `Display` receives every `ProgressEvent`; with `live=True` it draws a panel on
stderr (trials done/running/failed, best weighted score and its objective values, Pareto
front size, spend against the cap) and removes nothing the terminal printed before. With
`live=False` it draws nothing. Callback exceptions propagate (a broken callback is a bug).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from dspx_lang.optimize.model import Progress, ProgressEvent
from dspx_lang.optimize.spend import to_usd

if TYPE_CHECKING:
    from rich.live import Live

    from dspx_lang.optimize.ledger import Totals
    from dspx_lang.optimize.records import Summary

Callback = Callable[[ProgressEvent], None]


def snapshot(summary: Summary, totals: Totals, trials: int, max_spend: float | None) -> Progress:
    counts = summary.counts
    best = summary.best
    return Progress(
        done=totals.done,
        running=totals.running,
        failed=counts["infra_failed"] + counts["error"] + counts["worker_died"],
        infeasible=counts["infeasible"] + counts["duplicate"],
        trials=trials,
        best_score=best.score if best else None,
        best_values=dict(best.values) if best else {},
        pareto_size=len(summary.front),
        spent=to_usd(totals.settled),
        max_spend=max_spend,
        reserved=to_usd(totals.outstanding),
    )


def wants_live(live: bool | None) -> bool:
    """`None`: live only when stderr is a terminal."""
    return sys.stderr.isatty() if live is None else live


class Display:
    def __init__(self, title: str, live: bool, callbacks: Sequence[Callback] = ()) -> None:
        self.title = title
        self.callbacks = tuple(callbacks)
        self._live: Live | None = None
        if live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(
                self._render(None), console=Console(stderr=True), refresh_per_second=4
            )

    def __enter__(self) -> Display:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()

    def emit(self, event: ProgressEvent) -> None:
        if self._live is not None:
            self._live.update(self._render(event.progress))
        for callback in self.callbacks:
            callback(event)

    def _render(self, p: Progress | None) -> Any:
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        table.title = self.title
        if p is None:
            table.add_row("study", "opening…")
            return table
        table.add_row("trials", f"{p.done}/{p.trials} done, {p.running} running, {p.failed} failed")
        if p.infeasible:
            table.add_row("rejected", f"{p.infeasible} infeasible or duplicate proposals")
        if p.best_score is None:
            table.add_row("best", "—")
        else:
            values = ", ".join(f"{k} {_num(v)}" for k, v in p.best_values.items())
            table.add_row("best", f"score {p.best_score:.3f} ({values})")
        table.add_row("pareto", f"{p.pareto_size} configuration(s)")
        cap = f" of ${p.max_spend:.4f}" if p.max_spend is not None else ""
        held = f", ${p.reserved:.4f} reserved" if p.reserved else ""
        table.add_row("spend", f"${p.spent:.4f}{cap}{held}")
        return table


def _num(x: float) -> str:
    return f"{x:.4g}"
