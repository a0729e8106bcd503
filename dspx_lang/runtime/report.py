"""The HTML report of an evaluation: one self-contained file.

Contract:
- `render_report(result, ...)` returns a whole HTML document: objective summary, budgets,
  measured cost/latency/tokens, error counts, and a per-example table (inputs, expected,
  outputs, scores, error, cost, latency, tokens) that can be searched, filtered by status and
  sorted by clicking a column header (a little inline script; it works without it too).
- Self-contained and inert: no network resource of any kind, and a Content-Security-Policy
  that forbids loading one (only the inline style and script run). Every text that comes
  from data, outputs or errors is HTML-escaped (`html.escape`, quotes included), and the
  script only reads the table's text, so a dataset cannot inject markup or script.
- Nothing secret is shown: errors are the runtime's scrubbed messages; prompts and
  endpoints are not included.
"""

from __future__ import annotations

import datetime
import html
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dspx_lang.runtime.eval_results import EvaluationResult, ExampleResult

__all__ = ["render_report", "write_report"]

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d1d1f;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.meta{color:#555;margin-bottom:12px}
table{border-collapse:collapse}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;
vertical-align:top}th{background:#f5f5f7}
table.examples th{cursor:pointer;user-select:none;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{margin:0;white-space:pre-wrap;word-break:break-word;max-width:36em;font-size:12px}
tr.ok td.status{color:#137333}tr.output_error td.status{color:#b3261e}
tr.infra_error td.status,tr.metric_error td.status,tr.stopped td.status{color:#8a5a00}
.row{display:flex;flex-wrap:wrap;gap:32px;align-items:flex-start}
.controls{margin:8px 0}.controls input{width:24em;padding:4px}.bad{color:#b3261e}
"""

_SCRIPT = """
(function () {
  var table = document.getElementById('examples');
  var body = table.tBodies[0];
  var search = document.getElementById('search');
  var status = document.getElementById('status');
  function filter() {
    var needle = search.value.toLowerCase();
    var wanted = status.value;
    Array.prototype.forEach.call(body.rows, function (row) {
      var shown = (!wanted || row.className === wanted) &&
        (!needle || row.textContent.toLowerCase().indexOf(needle) !== -1);
      row.style.display = shown ? '' : 'none';
    });
  }
  search.addEventListener('input', filter);
  status.addEventListener('change', filter);
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
    var ascending = true;
    th.addEventListener('click', function () {
      var rows = Array.prototype.slice.call(body.rows);
      var numeric = th.hasAttribute('data-numeric');
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute('data-sort') || a.cells[column].textContent;
        var y = b.cells[column].getAttribute('data-sort') || b.cells[column].textContent;
        var order = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
        return ascending ? order : -order;
      });
      ascending = !ascending;
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fields(values: Mapping[str, Any] | None) -> str:
    """`name: value` lines; strings as they are, other values as compact JSON."""
    if values is None:
        return ""
    return "\n".join(f"{name}: {_shown(value)}" for name, value in values.items())


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _number(value: float | None, unit: str = "", digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if unit == "$":
        return f"${value:.6f}"
    return f"{value:.{digits}f}{unit}"


def _measured(metric: str, value: float | None) -> str:
    if metric == "cost":
        return _number(value, "$")
    if metric == "latency":
        return _number(value, " s", 3)
    if metric == "tokens":
        return _number(value, "", 1)
    return _number(value)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    attribute = f' class="{_e(cls)}"' if cls else ""
    return f"<table{attribute}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _summary(result: EvaluationResult) -> str:
    objectives = _table(
        ("objective", "direction", "weight", "value", "examples"),
        (
            (
                _e(o.name),
                _e(o.direction),
                _e(f"{o.weight:.3f}"),
                _e(_measured(o.metric, o.value)),
                _e(o.count),
            )
            for o in result.objectives
        ),
    )
    score = f"<p>score (weighted quality objectives): <b>{_e(_number(result.score))}</b></p>"
    budgets = ""
    if result.budgets:
        budgets = "<h2>Budgets</h2>" + _table(
            ("budget", "limit", "measured mean", "within"),
            (
                (
                    _e(b.metric),
                    _e(_measured(b.metric, b.limit)),
                    _e(_measured(b.metric, b.measured)),
                    _e("unknown" if b.within is None else "yes" if b.within else "NO"),
                )
                for b in result.budgets
            ),
        )
    counts = result.counts()
    measured = _table(
        ("per example", "value"),
        (
            ("cost", _e(_number(result.cost_usd, "$"))),
            ("latency", _e(_number(result.latency_s, " s", 3))),
            ("tokens", _e(_number(result.tokens, "", 1))),
            ("spent in all", _e(_number(result.spent_usd, "$") if result.spent_known else "n/a")),
        ),
    )
    count_table = _table(("examples", "count"), ((_e(k), _e(v)) for k, v in counts.items()))
    stopped = ""
    if result.stop_reason:
        stopped = f'<p class="bad">stopped: {_e(result.stop_reason)}</p>'
    return (
        f'<div class="row"><div><h2>Objectives</h2>{objectives}{score}{stopped}</div>'
        f"<div><h2>Measured</h2>{measured}{budgets}</div>"
        f"<div><h2>Examples</h2>{count_table}</div></div>"
    )


def _example_row(r: ExampleResult) -> str:
    scores = "\n".join(f"{name}: {value:g}" for name, value in r.scores.items())
    cells = (
        f'<td class="num" data-sort="{r.index}">{r.index}</td>',
        f'<td class="status">{_e(r.status)}</td>',
        f'<td class="num" data-sort="{_e("" if r.score is None else r.score)}">'
        f"{_e('' if r.score is None else f'{r.score:g}')}</td>",
        f"<td><pre>{_e(_fields(r.inputs))}</pre></td>",
        f"<td><pre>{_e(_fields(r.expected))}</pre></td>",
        f"<td><pre>{_e(_fields(r.outputs))}</pre></td>",
        f"<td><pre>{_e(scores)}</pre></td>",
        f"<td><pre>{_e(r.error or '')}</pre></td>",
        f'<td class="num" data-sort="{_e(r.cost_usd or 0)}">'
        f"{_e('' if r.cost_usd is None else f'{r.cost_usd:.6f}')}</td>",
        f'<td class="num" data-sort="{r.latency_s}">{r.latency_s:.3f}</td>',
        f'<td class="num" data-sort="{r.tokens}">{r.tokens}</td>',
    )
    return f'<tr class="{_e(r.status)}">' + "".join(cells) + "</tr>"


def _examples(result: EvaluationResult) -> str:
    headers = (
        ("#", True),
        ("status", False),
        ("score", True),
        ("inputs", False),
        ("expected", False),
        ("outputs", False),
        ("scores", False),
        ("error", False),
        ("cost ($)", True),
        ("latency (s)", True),
        ("tokens", True),
    )
    head = "".join(
        f"<th{' data-numeric' if numeric else ''}>{_e(name)}</th>" for name, numeric in headers
    )
    statuses = sorted({r.status for r in result.results})
    options = '<option value="">every status</option>' + "".join(
        f'<option value="{_e(s)}">{_e(s)}</option>' for s in statuses
    )
    rows = "".join(_example_row(r) for r in result.results)
    return (
        '<div class="controls"><input id="search" type="search" placeholder="search the '
        f'examples" aria-label="search"> <select id="status">{options}</select></div>'
        f'<table class="examples" id="examples"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def render_report(result: EvaluationResult, *, source: str = "", data: str = "") -> str:
    """The report as an HTML document (see the module docstring)."""
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    facts = [
        f"program <b>{_e(result.program)}</b>",
        *([f"file {_e(source)}"] if source else []),
        *([f"data {_e(data)}"] if data else []),
        f"{result.total} examples",
        f"{result.wall_s:.2f} s",
        when,
    ]
    config = ", ".join(f"{k} = {json.dumps(v, default=str)}" for k, v in result.config.items())
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f"<title>dspx evaluation: {_e(result.program)}</title><style>{_CSS}</style></head>"
        f"<body><h1>dspx evaluation: {_e(result.program)}</h1>"
        f'<div class="meta">{" · ".join(facts)}</div>'
        f'<div class="meta">configuration: {_e(config or "(no variables)")}</div>'
        f"{_summary(result)}<h2>Per example</h2>{_examples(result)}"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )


def write_report(
    path: str | Path,
    result: EvaluationResult,
    *,
    source: str = "",
    data: str = "",
) -> Path:
    """Write `render_report(...)` to `path` (UTF-8) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_report(result, source=source, data=data), "utf-8")
    return target
