"""The driver: run the compiler's passes over a file and its imports.

Contract: `check(path)` always returns a `Compilation`; problems in the user's
program are diagnostics, never exceptions. Passes run in `PASSES` order; a
pass marked `needs_clean` runs only when no error has been found so far
(satisfiability and estimates are meaningless over a broken program).
Several roots checked with one `Session` share parsed files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dspx_lang.diagnostics import Diagnostic, Sink
from dspx_lang.semantics import ParseCache, SemanticModel, analyze
from dspx_lang.semantics.imports import Loader, disk_loader, normalize
from dspx_lang.source import SourceFile
from dspx_lang.space.report import SpaceReport


@dataclass(slots=True)
class Compilation:
    """Everything the compiler knows about one root file."""

    root: str
    model: SemanticModel
    sink: Sink
    reports: dict[str, SpaceReport] = field(default_factory=dict)

    @property
    def sources(self) -> dict[str, SourceFile]:
        return {path: unit.source for path, unit in self.model.files.items()}

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.sink.sorted()

    @property
    def has_errors(self) -> bool:
        return self.sink.has_errors()

    def dependencies(self) -> tuple[list[str], list[str]]:
        """What the result depends on: the closure's sources (by content), and other files
        by size and mtime: import targets that do not exist yet, datasets, the price map."""
        from dspx_lang.modelfacts import price_map_path
        from dspx_lang.semantics.imports import resolve_import
        from dspx_lang.syntax import ast

        sources = list(self.model.files)
        stats: list[str] = []
        for path, unit in self.model.files.items():
            for decl in unit.module.decls:
                if isinstance(decl, ast.Import):
                    target = resolve_import(path, decl.path.value)
                    if target not in self.model.files:
                        stats.append(target)
        stats.extend(d.resolved_path for d in self.model.datasets.values())
        prices = price_map_path()
        if prices is not None:
            stats.append(str(prices))
        return sources, stats


@dataclass(frozen=True, slots=True)
class Pass:
    name: str
    run: Callable[[Compilation], None]
    needs_clean: bool


def _space(compilation: Compilation) -> None:
    from dspx_lang.space import analyze_space

    compilation.reports = analyze_space(compilation)


PASSES: tuple[Pass, ...] = (Pass("space", _space, needs_clean=True),)


@dataclass(slots=True)
class Session:
    loader: Loader = disk_loader
    cache: ParseCache = field(default_factory=ParseCache)

    def analyze(self, source: SourceFile) -> Compilation:
        """Parse and run the semantic checks only (what an editor needs per keystroke)."""
        sink = Sink()
        model = analyze(source, sink, loader=self.loader, cache=self.cache)
        return Compilation(source.path, model, sink)

    @staticmethod
    def run_passes(compilation: Compilation) -> None:
        """The later passes (space analysis, estimates) on an analysed compilation."""
        for step in PASSES:
            if step.needs_clean and compilation.has_errors:
                continue
            step.run(compilation)

    def check_source(self, source: SourceFile) -> Compilation:
        compilation = self.analyze(source)
        self.run_passes(compilation)
        return compilation

    def check(self, path: str) -> Compilation:
        """Check a file on disk; raises OSError when the root itself cannot be read."""
        return self.check_source(self.loader(normalize(path)))
