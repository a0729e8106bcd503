"""Reading datasets: `.jsonl`, `.json` (an array of objects) and `.csv`.

Contract: `read_rows(path, limit)` returns at most `limit` rows as dicts, reading
no more of the file than it needs (the checker reads only the first rows);
any problem is a `DatasetError` whose message names the file and, where it
can, the line or row. Shared by the compiler (E500, demo-token estimates) and
the runtime (evaluation), so it imports neither.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

FORMATS = (".jsonl", ".json", ".csv")
_CHUNK = 1 << 16


class DatasetError(Exception):
    pass


def read_rows(path: str | Path, limit: int | None = None) -> list[dict[str, Any]]:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise DatasetError(
            f"{path}: unsupported dataset format '{suffix}' (use .jsonl, .json or .csv)"
        )
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            if suffix == ".jsonl":
                return _jsonl(path, handle, limit)
            if suffix == ".json":
                return _json_array(path, handle, limit)
            return _csv(path, handle, limit)
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except ValueError as exc:  # e.g. a NUL byte in the path
        raise DatasetError(f"{str(path)!r}: not a usable path ({exc})") from None


def _jsonl(path: Path, handle: Any, limit: int | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(handle, start=1):
        if limit is not None and len(rows) >= limit:
            break
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise DatasetError(f"{path}:{number}: each line must be a JSON object")
        rows.append(row)
    return rows


def _json_array(path: Path, handle: Any, limit: int | None) -> list[dict[str, Any]]:
    decoder = json.JSONDecoder()
    buffer = handle.read(_CHUNK)
    eof = len(buffer) < _CHUNK
    pos = _skip(buffer, 0)
    if not buffer[pos : pos + 1] == "[":
        raise DatasetError(f"{path}: a .json dataset must be an array of objects")
    pos += 1
    rows: list[dict[str, Any]] = []
    while limit is None or len(rows) < limit:
        pos = _skip(buffer, pos, ",")
        if pos >= len(buffer) and not eof:
            more = handle.read(_CHUNK)
            eof = len(more) < _CHUNK
            buffer = buffer[pos:] + more
            pos = 0
            continue
        if buffer[pos : pos + 1] == "]":
            break
        try:
            row, end = decoder.raw_decode(buffer, pos)
        except json.JSONDecodeError as exc:
            if eof:
                raise DatasetError(f"{path}: invalid JSON ({exc.msg})") from None
            more = handle.read(_CHUNK)
            eof = len(more) < _CHUNK
            buffer = buffer[pos:] + more
            pos = 0
            continue
        if not isinstance(row, dict):
            raise DatasetError(f"{path}: element {len(rows) + 1} is not a JSON object")
        rows.append(row)
        pos = end
    return rows


def _skip(buffer: str, pos: int, extra: str = "") -> int:
    while pos < len(buffer) and (buffer[pos].isspace() or buffer[pos] in extra):
        pos += 1
    return pos


def _csv(path: Path, handle: Any, limit: int | None) -> list[dict[str, Any]]:
    reader = csv.DictReader(handle)
    rows: list[dict[str, Any]] = []
    try:
        for row in reader:
            if limit is not None and len(rows) >= limit:
                break
            rows.append(dict(row))
    except csv.Error as exc:
        raise DatasetError(f"{path}:{reader.line_num}: invalid CSV ({exc})") from None
    if reader.fieldnames is None:
        raise DatasetError(f"{path}: empty CSV file (no header row)")
    return rows


def columns_of(path: str | Path, rows: list[dict[str, Any]]) -> set[str]:
    """Column names: the CSV header, or the keys of the first rows."""
    if Path(path).suffix.lower() == ".csv":
        try:
            with Path(path).open(encoding="utf-8", newline="") as handle:
                header = next(csv.reader(handle), [])
        except (OSError, ValueError) as exc:
            raise DatasetError(f"{str(path)!r}: cannot read ({exc})") from None
        return set(header)
    columns: set[str] = set()
    for row in rows:
        columns.update(row)
    return columns
