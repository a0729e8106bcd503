"""Reading LM answers back: the adapter formats of `dspx_lang.prompts`, then coercion.

Contract:
- `parse_outputs(adapter, text, fields)` returns every field's coerced value or raises
  `OutputParseError` whose message says what was wrong (missing fields, bad values) in a
  form fit to show the LM in a retry; `field` names the first offending field when one is
  to blame.
- chat: sections after `[[ ## name ## ]]` markers (spacing and case tolerated); a marker of
  another name, such as `completed`, ends a section. markdown: sections after headings whose
  text is a field name (`## answer`, `### Answer:`, `## **answer**`). json: the first JSON
  object in the text (code fences, prose around it, trailing commas tolerated), keys matched
  case-insensitively.
- The one structural repair: when exactly one field is expected and the answer has no
  section markers at all, the whole answer (without a leading `name:` label) is that field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from dspx_lang.prompts import VALUE_NOTE, Adapter
from dspx_lang.runtime.coerce import Coercer, CoercionError, loads_lenient, strip_fences

__all__ = ["OutputField", "OutputParseError", "parse_outputs"]

OutputField = tuple[str, Coercer]

_CHAT_MARKER = re.compile(r"\[\[\s*##\s*([A-Za-z_][A-Za-z0-9_]*)\s*##\s*\]\]")
_MD_HEADING = re.compile(
    r"^[ \t]{0,3}#{1,6}[ \t]*[`*_]*([A-Za-z_][A-Za-z0-9_]*)[`*_]*[ \t]*:?[ \t]*$", re.MULTILINE
)


class OutputParseError(ValueError):
    """The answer could not be read or validated; `field` is the field to blame, if one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


_ECHOED_NOTE = re.compile(rf"[ \t]*{re.escape(VALUE_NOTE)}[^\n]*")


def parse_outputs(adapter: Adapter, text: str, fields: Sequence[OutputField]) -> dict[str, Any]:
    names = [name for name, _ in fields]
    if adapter == "json":
        raw = _json_fields(text, names)
        as_text = False
    else:
        raw = _sections(text, names, _CHAT_MARKER if adapter == "chat" else _MD_HEADING)
        as_text = True
    missing = [n for n in names if n not in raw]
    if missing:
        listing = ", ".join(f"`{n}`" for n in missing)
        raise OutputParseError(f"the answer has no {listing} field", missing[0])
    result: dict[str, Any] = {}
    for name, coerce in fields:
        try:
            result[name] = coerce(raw[name], as_text, name)
        except CoercionError as exc:
            raise OutputParseError(f"field {exc}", name) from None
    return result


def _sections(text: str, names: Sequence[str], marker: re.Pattern[str]) -> dict[str, Any]:
    wanted = {n.lower(): n for n in names}
    matches = [
        m for m in marker.finditer(text) if marker is _CHAT_MARKER or m.group(1).lower() in wanted
    ]
    if not matches:
        return _unmarked(text, names)
    found: dict[str, Any] = {}
    for index, match in enumerate(matches):
        name = wanted.get(match.group(1).lower())
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        if name is not None and name not in found:
            found[name] = _ECHOED_NOTE.sub("", text[match.end() : end]).strip()
    return found


def _unmarked(text: str, names: Sequence[str]) -> dict[str, Any]:
    if len(names) != 1:
        return {}
    body = text.strip()
    label = re.match(rf"(?i)\s*[*_]*{re.escape(names[0])}[*_]*\s*:\s*", body)
    return {names[0]: body[label.end() :] if label else body}


def _json_fields(text: str, names: Sequence[str]) -> dict[str, Any]:
    body = strip_fences(text.strip())
    start, end = body.find("{"), body.rfind("}")
    if start == -1 or end < start:
        raise OutputParseError("the answer is not a JSON object")
    try:
        data = loads_lenient(body[start : end + 1])
    except ValueError as exc:
        raise OutputParseError(f"the answer is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise OutputParseError("the answer is not a JSON object")
    folded = {str(k).lower(): v for k, v in data.items()}
    return {n: data[n] if n in data else folded[n.lower()] for n in names if n.lower() in folded}
