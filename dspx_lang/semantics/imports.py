"""Loading a file and everything it imports.

Contract: `load_closure` parses the root file and, transitively, every file it
imports (paths relative to the importing file), each once. Missing or
unreadable imports and import cycles are E103 at the import statement; syntax
errors of every file are kept. A `Loader` supplies text, so the language
server can substitute unsaved editor buffers for files on disk.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from dspx_lang.diagnostics import Sink
from dspx_lang.diagnostics import messages as msg
from dspx_lang.semantics.model import FileUnit
from dspx_lang.source import SourceFile
from dspx_lang.syntax import ParseResult, ast, parse

Loader = Callable[[str], SourceFile]


def disk_loader(path: str) -> SourceFile:
    return SourceFile.read(path)


def normalize(path: str) -> str:
    return os.path.normpath(path)


def resolve_import(importer: str, target: str) -> str:
    return normalize(os.path.join(os.path.dirname(importer), target))


@dataclass(slots=True)
class ParseCache:
    """Parse results keyed by path and text, shared by the files of one session."""

    entries: dict[str, ParseResult] = field(default_factory=dict)

    def parse(self, source: SourceFile) -> ParseResult:
        cached = self.entries.get(source.path)
        if cached is not None and cached.source.text == source.text:
            return cached
        result = parse(source)
        self.entries[source.path] = result
        return result


def load_closure(
    root: SourceFile,
    loader: Loader,
    cache: ParseCache,
    sink: Sink,
) -> dict[str, FileUnit]:
    """Parse `root` and its transitive imports. Returns units in load order (root first)."""
    units: dict[str, FileUnit] = {}
    reported: set[tuple[str, int]] = set()

    def add_parse(result: ParseResult) -> FileUnit:
        sink.extend(result.diagnostics)
        unit = FileUnit(result.source, result.module)
        units[result.source.path] = unit
        return unit

    def visit(unit: FileUnit, stack: list[str]) -> None:
        for imp in (d for d in unit.module.decls if isinstance(d, ast.Import)):
            path = resolve_import(unit.source.path, imp.path.value)
            if path in stack:
                cycle = " -> ".join([*stack[stack.index(path) :], path])
                _report(sink, reported, unit, imp, msg.import_cycle(cycle))
                continue
            if path not in units:
                try:
                    source = loader(path)
                except (OSError, ValueError) as exc:
                    _report(sink, reported, unit, imp, msg.import_missing(imp.path.value, exc))
                    continue
                child = add_parse(cache.parse(source))
                unit.imports.append(path)
                visit(child, [*stack, path])
            else:
                unit.imports.append(path)

    root_unit = add_parse(cache.parse(root))
    visit(root_unit, [root.path])
    return units


def _report(
    sink: Sink, reported: set[tuple[str, int]], unit: FileUnit, imp: ast.Import, message: str
) -> None:
    key = (unit.source.path, imp.span.start)
    if key not in reported:
        reported.add(key)
        sink.add("E103", message, unit.source.path, imp.path.span)


def closure_of(path: str, units: dict[str, FileUnit]) -> list[str]:
    """`path` and every file it reaches through imports, nearest first."""
    seen: list[str] = []
    queue = [path]
    while queue:
        current = queue.pop(0)
        if current in seen or current not in units:
            continue
        seen.append(current)
        queue.extend(units[current].imports)
    return seen
