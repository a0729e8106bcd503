"""Pictures of a run: the Pareto front as a text scatter plot (terminal) and as inline SVG,
and the trial history as SVG. Pure functions of the run's points; no I/O.

Contract:
- `points(result, baseline)` lists what is drawn: every scored trial (kind `front`, `chosen`,
  `feasible` or `over` budget) and the default configuration's baseline (`default`), each
  with its objective values. The x axis is the second objective, the y axis the first (as
  declared); a program with one objective plots it against the trial number.
- `text_scatter(...)` returns lines of a fixed-size character grid with axis labels and a
  legend, using only printable characters (readable in a log file); when two points share a
  cell the more important mark wins (chosen > default > front > feasible > over budget).
- `svg_scatter(...)` / `svg_history(...)` return standalone `<svg>` elements (no external
  resource, no script); every text in them is XML-escaped; each point has a `<title>`
  tooltip with its trial, configuration and values.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from dspx_lang.optimize.model import Objective, OptimizeResult

Kind = Literal["chosen", "default", "front", "feasible", "over"]
MARKS: dict[Kind, str] = {"chosen": "*", "default": "D", "front": "o", "feasible": ".", "over": "x"}
RANK: dict[Kind, int] = {"chosen": 5, "default": 4, "front": 3, "feasible": 2, "over": 1}
COLORS: dict[Kind, str] = {
    "chosen": "#d62728",
    "default": "#1f77b4",
    "front": "#2ca02c",
    "feasible": "#7f7f7f",
    "over": "#ff7f0e",
}
LABELS: dict[Kind, str] = {
    "chosen": "chosen",
    "default": "default configuration",
    "front": "Pareto front",
    "feasible": "other trials",
    "over": "over budget",
}


@dataclass(frozen=True)
class Point:
    trial: int | None
    kind: Kind
    values: Mapping[str, float]
    config: Mapping[str, Any]


def points(
    result: OptimizeResult,
    baseline: Mapping[str, float] | None,
    show: Callable[[Mapping[str, Any]], Mapping[str, Any]] = dict,
) -> list[Point]:
    """`show` turns a trial's configuration into what a reader sees (names, short texts)."""
    front = {r.number for r in result.pareto}
    best = result.best.number if result.best else None
    out = []
    for r in result.trials:
        kind: Kind = (
            "chosen"
            if r.number == best
            else "front"
            if r.number in front
            else "feasible"
            if r.feasible
            else "over"
        )
        out.append(Point(r.number, kind, r.values, show(r.config)))
    if baseline:
        out.append(Point(None, "default", baseline, {}))
    return out


def axes(objectives: Sequence[Objective]) -> tuple[str, str | None]:
    """(y objective, x objective or None for the trial number)."""
    y = objectives[0].name
    return y, (objectives[1].name if len(objectives) > 1 else None)


def _xy(p: Point, y: str, x: str | None) -> tuple[float, float] | None:
    yv = p.values.get(y)
    xv = p.values.get(x) if x is not None else (float(p.trial) if p.trial is not None else None)
    if yv is None or xv is None or not (math.isfinite(yv) and math.isfinite(xv)):
        return None
    return float(xv), float(yv)


def _span(values: Sequence[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        pad = abs(lo) * 0.1 or 1.0
        return lo - pad, hi + pad
    return lo, hi


def _ranges(
    placed: Sequence[tuple[Point, tuple[float, float]]],
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis ranges over the points within budget (over-budget ones are drawn clamped to the
    border when they fall outside: they would otherwise squeeze the front into a corner)."""
    shown = [xy for p, xy in placed if p.kind != "over"] or [xy for _, xy in placed]
    return _span([x for x, _ in shown]), _span([y for _, y in shown])


def _clamp(fraction: float) -> float:
    return min(1.0, max(0.0, fraction))


def num(value: float) -> str:
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.2e}"
    return f"{value:.4g}"


def text_scatter(
    pts: Sequence[Point], objectives: Sequence[Objective], *, width: int = 56, height: int = 14
) -> list[str]:
    y_name, x_name = axes(objectives)
    placed = [(p, xy) for p in pts if (xy := _xy(p, y_name, x_name)) is not None]
    if not placed:
        return ["(no scored trial to plot)"]
    (x_lo, x_hi), (y_lo, y_hi) = _ranges(placed)
    grid: list[list[tuple[int, str]]] = [[(0, " ")] * width for _ in range(height)]
    for p, (x, y) in placed:
        col = round(_clamp((x - x_lo) / (x_hi - x_lo)) * (width - 1))
        line = height - 1 - round(_clamp((y - y_lo) / (y_hi - y_lo)) * (height - 1))
        if RANK[p.kind] > grid[line][col][0]:
            grid[line][col] = (RANK[p.kind], MARKS[p.kind])
    label_w = max(len(num(y_hi)), len(num(y_lo)))
    lines = [f"{y_name} (y) vs {x_name or 'trial number'} (x)"]
    for i, row in enumerate(grid):
        label = num(y_hi) if i == 0 else num(y_lo) if i == height - 1 else ""
        lines.append(f"{label:>{label_w}} |" + "".join(c for _, c in row))
    lines.append(" " * label_w + " +" + "-" * width)
    left, right = num(x_lo), num(x_hi)
    lines.append(" " * (label_w + 2) + left + right.rjust(width - len(left)))
    present = {p.kind for p, _ in placed}
    legend = "   ".join(f"{MARKS[k]} {LABELS[k]}" for k in MARKS if k in present)
    lines.append(" " * (label_w + 2) + legend)
    return lines


# ---------------------------------------------------------------------- SVG

_W, _H = 520, 340
_L, _R, _T, _B = 64, 30, 34, 44


def _frame(
    title: str, x_label: str, y_label: str, xs: tuple[float, float], ys: tuple[float, float]
) -> list[str]:
    e = html.escape
    x0, x1, y0, y1 = _L, _W - _R, _T, _H - _B
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="{_W}" '
        f'height="{_H}" role="img" aria-label="{e(title)}">',
        f"<title>{e(title)}</title>",
        f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" fill="#fafafa" '
        'stroke="#ccc"/>',
    ]
    for i in range(5):
        fx = x0 + (x1 - x0) * i / 4
        fy = y1 - (y1 - y0) * i / 4
        vx = xs[0] + (xs[1] - xs[0]) * i / 4
        vy = ys[0] + (ys[1] - ys[0]) * i / 4
        parts.append(f'<line x1="{fx:.1f}" y1="{y0}" x2="{fx:.1f}" y2="{y1}" stroke="#eee"/>')
        parts.append(f'<line x1="{x0}" y1="{fy:.1f}" x2="{x1}" y2="{fy:.1f}" stroke="#eee"/>')
        parts.append(
            f'<text x="{fx:.1f}" y="{y1 + 14}" font-size="10" text-anchor="middle">'
            f"{e(num(vx))}</text>"
        )
        parts.append(
            f'<text x="{x0 - 4}" y="{fy + 3:.1f}" font-size="10" text-anchor="end">'
            f"{e(num(vy))}</text>"
        )
    parts.append(
        f'<text x="{(x0 + x1) / 2:.0f}" y="{_H - 8}" font-size="12" text-anchor="middle">'
        f"{e(x_label)}</text>"
    )
    parts.append(
        f'<text x="14" y="{(y0 + y1) / 2:.0f}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {(y0 + y1) / 2:.0f})">{e(y_label)}</text>'
    )
    return parts


def _to_px(
    x: float, y: float, xs: tuple[float, float], ys: tuple[float, float]
) -> tuple[float, float]:
    px = _L + _clamp((x - xs[0]) / (xs[1] - xs[0])) * (_W - _R - _L)
    py = _H - _B - _clamp((y - ys[0]) / (ys[1] - ys[0])) * (_H - _B - _T)
    return px, py


def _tip(p: Point) -> str:
    who = "default configuration" if p.trial is None else f"trial {p.trial} ({LABELS[p.kind]})"
    config = ", ".join(f"{k}={_short(v)}" for k, v in p.config.items())
    values = ", ".join(f"{k} {num(v)}" for k, v in p.values.items())
    return html.escape(" — ".join(part for part in (who, config, values) if part))


def _short(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 40 else text[:39] + "…"


def svg_scatter(pts: Sequence[Point], objectives: Sequence[Objective]) -> str:
    y_name, x_name = axes(objectives)
    placed = [(p, xy) for p in pts if (xy := _xy(p, y_name, x_name)) is not None]
    if not placed:
        return "<p>No scored trial to plot.</p>"
    xs, ys = _ranges(placed)
    parts = _frame("Pareto front", x_name or "trial number", y_name, xs, ys)
    front = sorted(xy for p, xy in placed if p.kind in ("front", "chosen"))
    if len(front) > 1:
        line = " ".join(f"{a:.1f},{b:.1f}" for a, b in (_to_px(x, y, xs, ys) for x, y in front))
        parts.append(
            f'<polyline points="{line}" fill="none" stroke="{COLORS["front"]}" '
            'stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
    for p, (x, y) in sorted(placed, key=lambda item: RANK[item[0].kind]):
        px, py = _to_px(x, y, xs, ys)
        color = COLORS[p.kind]
        if p.kind == "default":
            shape = f'<rect x="{px - 6:.1f}" y="{py - 6:.1f}" width="12" height="12" fill="{color}"'
        elif p.kind == "chosen":
            shape = f'<circle cx="{px:.1f}" cy="{py:.1f}" r="8" fill="{color}" stroke="#000"'
        elif p.kind == "over":
            shape = f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="none" stroke="{color}"'
        else:
            r = 6 if p.kind == "front" else 4
            shape = f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{r}" fill="{color}" fill-opacity="0.8"'
        parts.append(f"{shape}><title>{_tip(p)}</title>{_end(shape)}")
    parts.append(_legend({p.kind for p, _ in placed}))
    parts.append("</svg>")
    return "\n".join(parts)


def _end(shape: str) -> str:
    return "</rect>" if shape.startswith("<rect") else "</circle>"


def _legend(kinds: set[Kind]) -> str:
    items, x = [], _L + 6
    for kind in MARKS:
        if kind not in kinds:
            continue
        items.append(
            f'<circle cx="{x}" cy="14" r="4" fill="{COLORS[kind]}"/>'
            f'<text x="{x + 7}" y="17" font-size="10">{html.escape(LABELS[kind])}</text>'
        )
        x += 14 + 6 * len(LABELS[kind])
    return "".join(items)


def svg_history(pts: Sequence[Point], objective: Objective) -> str:
    """Each trial's value of `objective` by trial number, and the best so far as a line."""
    trials = sorted(
        (p for p in pts if p.trial is not None and objective.name in p.values),
        key=lambda p: p.trial or 0,
    )
    if not trials:
        return "<p>No scored trial yet.</p>"
    xs = _span([float(p.trial or 0) for p in trials])
    ys = _span([p.values[objective.name] for p in trials])
    parts = _frame("Trial history", "trial number", objective.name, xs, ys)
    best: float | None = None
    steps = []
    for p in trials:
        v = p.values[objective.name]
        if p.kind != "over" and (
            best is None or (v > best if objective.direction == "maximize" else v < best)
        ):
            best = v
        if best is not None:
            steps.append(_to_px(float(p.trial or 0), best, xs, ys))
    if steps:
        line = " ".join(f"{a:.1f},{b:.1f}" for a, b in steps)
        parts.append(
            f'<polyline points="{line}" fill="none" stroke="{COLORS["chosen"]}" stroke-width="2"/>'
        )
    for p in trials:
        px, py = _to_px(float(p.trial or 0), p.values[objective.name], xs, ys)
        fill = "none" if p.kind == "over" else COLORS[p.kind]
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{fill}" stroke="{COLORS[p.kind]}">'
            f"<title>{_tip(p)}</title></circle>"
        )
    parts.append("</svg>")
    return "\n".join(parts)
