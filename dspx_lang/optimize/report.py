"""The HTML report of an optimization run (`dspxc optimize --report out.html`).

Contract: `render_report(...)` returns one self-contained page: the chosen configuration and
its objectives next to the default configuration's, the Pareto front as an inline SVG
scatter plot and a table, the trial history as an SVG chart, every scored trial, the
instruction candidates and the demos chosen, the spend and the study. It loads nothing (a
Content-Security-Policy says so), runs no script, and every text that comes from the
program, the data, the LM or the configuration is HTML-escaped. `write_report` writes it
atomically.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dspx_lang.optimize.artifact import Artifact
from dspx_lang.optimize.model import OptimizeResult, TrialRecord
from dspx_lang.optimize.plot import num, points, svg_history, svg_scatter

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f3f3f3}.num{text-align:right;
font-variant-numeric:tabular-nums}.charts{display:flex;flex-wrap:wrap;gap:16px}
.better{color:#1a7f37}.worse{color:#b42318}code,pre{background:#f6f6f6;padding:1px 4px}
pre{white-space:pre-wrap;padding:6px}.muted{color:#777}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _value(value: float | None) -> str:
    return "—" if value is None else _e(num(value))


def _config(config: Mapping[str, Any]) -> str:
    return "<br>".join(f"<b>{_e(k)}</b> = {_e(_clip(v))}" for k, v in config.items())


def _clip(value: Any, limit: int = 160) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_report(
    result: OptimizeResult,
    artifact: Artifact,
    *,
    baseline: Mapping[str, Any] | None,
    source: str,
    show: Callable[[Mapping[str, Any]], Mapping[str, Any]] = dict,
) -> str:
    """`show` turns a trial's configuration into what a reader sees."""
    base_values: Mapping[str, float] = (baseline or {}).get("values", {})
    pts = points(result, base_values or None, show)
    objectives = result.objectives
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">",
        f"<title>dspx optimize: {_e(artifact.program)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Optimization of <code>{_e(artifact.program)}</code></h1>",
        f"<p class='muted'>{_e(source)} · study <code>{_e(result.study)}</code> on "
        f"<code>{_e(result.storage)}</code> · sampler {_e(result.sampler)}, seed "
        f"{_e(result.seed)} · {len(result.trials)} scored trial(s) · stopped: "
        f"{_e(result.stop_reason or '—')} · spent ${result.spent:.6f}"
        + (f" of ${result.max_spend:g}" if result.max_spend is not None else "")
        + "</p>",
        "<h2>Chosen configuration</h2>",
    ]
    chosen = artifact.chosen
    if chosen is None:
        parts.append("<p>No feasible trial: the artifact keeps the file's defaults.</p>")
    else:
        parts.append(f"<p>Trial {chosen.trial}:<br>{_config(chosen.config)}</p>")
    parts.append(_comparison(objectives, chosen.values if chosen else {}, base_values))
    parts.append("<h2>Pareto front</h2><div class='charts'>")
    parts.append(svg_scatter(pts, objectives))
    parts.append(svg_history(pts, objectives[0]))
    parts.append("</div>")
    parts.append(_trials_table(result.pareto, objectives, show))
    parts.append("<h2>Every scored trial</h2>")
    rows = [
        {
            "trial": r.number,
            "config": show(r.config),
            "values": r.values,
            "feasible": r.feasible,
            "score": r.score,
        }
        for r in result.trials
    ]
    parts.append(_all_trials(rows, objectives))
    if artifact.instructions:
        parts.append("<h2>Instruction candidates</h2>")
        for var, ins in artifact.instructions.items():
            parts.append(f"<p><b>{_e(var)}</b> (signature {_e(ins.signature)})</p><ol start='0'>")
            for i, text in enumerate(ins.candidates):
                mark = " <b>(chosen)</b>" if i == ins.chosen else ""
                label = " <span class='muted'>(the signature's own)</span>" if i == 0 else ""
                parts.append(f"<li><pre>{_e(text)}</pre>{label}{mark}</li>")
            parts.append("</ol>")
    if artifact.demos:
        parts.append("<h2>Demos shown</h2>")
        for step, demos in artifact.demos.items():
            parts.append(
                f"<p>step <b>{_e(step)}</b></p><table><tr><th>inputs</th><th>outputs</th></tr>"
            )
            for d in demos:
                parts.append(f"<tr><td>{_config(d.inputs)}</td><td>{_config(d.outputs)}</td></tr>")
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _comparison(
    objectives: Sequence[Any], chosen: Mapping[str, float], base: Mapping[str, float]
) -> str:
    rows = [
        "<table><tr><th>objective</th><th>direction</th><th>weight</th><th>chosen</th>"
        "<th>default configuration</th></tr>"
    ]
    for o in objectives:
        c, b = chosen.get(o.name), base.get(o.name)
        css = ""
        if c is not None and b is not None and c != b:
            better = c > b if o.direction == "maximize" else c < b
            css = " class='num better'" if better else " class='num worse'"
        rows.append(
            f"<tr><td>{_e(o.name)}</td><td>{_e(o.direction)}</td><td class='num'>"
            f"{o.weight:.3f}</td><td{css or ' class=num'}>{_value(c)}</td>"
            f"<td class='num'>{_value(b)}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _trials_table(
    front: Sequence[TrialRecord],
    objectives: Sequence[Any],
    show: Callable[[Mapping[str, Any]], Mapping[str, Any]],
) -> str:
    head = "".join(f"<th>{_e(o.name)}</th>" for o in objectives)
    rows = [f"<table><tr><th>trial</th><th>configuration</th>{head}<th>score</th></tr>"]
    for p in front:
        cells = "".join(f"<td class='num'>{_value(p.values.get(o.name))}</td>" for o in objectives)
        rows.append(
            f"<tr><td class='num'>{p.number}</td><td>{_config(show(p.config))}</td>{cells}"
            f"<td class='num'>{_value(p.score)}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _all_trials(rows: Sequence[Mapping[str, Any]], objectives: Sequence[Any]) -> str:
    head = "".join(f"<th>{_e(o.name)}</th>" for o in objectives)
    out = [
        f"<table><tr><th>trial</th><th>configuration</th>{head}<th>feasible</th><th>score</th></tr>"
    ]
    for r in rows:
        cells = "".join(
            f"<td class='num'>{_value(r['values'].get(o.name))}</td>" for o in objectives
        )
        feasible = "yes" if r["feasible"] else "<b>over budget</b>"
        out.append(
            f"<tr><td class='num'>{r['trial']}</td><td>{_config(r['config'])}</td>{cells}"
            f"<td>{feasible}</td><td class='num'>{_value(r['score'])}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def write_report(path: str | Path, page: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
