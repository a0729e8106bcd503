"""The runtime's dependency rule, checked on its source: it never imports the compiler,
lark or the language server (ARCHITECTURE.md); from the IR package only the pure schema
and the spec helpers."""

from __future__ import annotations

import ast
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[2] / "dspx_lang" / "runtime"
FORBIDDEN = (
    "dspx_lang.syntax",
    "dspx_lang.semantics",
    "dspx_lang.space",
    "dspx_lang.driver",
    "dspx_lang.codegen",
    "dspx_lang.diagnostics",
    "dspx_lang.ir.lower",
    "dspx_lang.optimize",
    "lark",
    "pygls",
    "lsprotocol",
    "dspx_lsp",
)


def imported_modules(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Every module `path` imports; with `top_level_only`, only those its import runs (not
    inside functions or `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body if top_level_only else ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


# `Program.load_optimized` reads the optimizer's artifact: a module kept pure for that (below).
ALLOWED = ("dspx_lang.optimize.artifact",)


def test_the_runtime_never_imports_the_compiler() -> None:
    files = sorted(RUNTIME.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        for name in imported_modules(path):
            if name in ALLOWED:
                continue
            assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
            if name.startswith("dspx_lang.ir"):
                assert name in ("dspx_lang.ir", "dspx_lang.ir.schema", "dspx_lang.ir.specs"), (
                    f"{path.name} imports {name}"
                )


def test_the_ir_modules_the_runtime_reads_are_pure() -> None:
    """Importing them imports no compiler code (`ir.lower` loads the compiler when called)."""
    ir = RUNTIME.parent / "ir"
    for module in ("__init__.py", "schema.py", "specs.py"):
        for name in imported_modules(ir / module, top_level_only=True):
            if name.startswith("dspx_lang"):
                assert name in (
                    "dspx_lang.ir.schema",
                    "dspx_lang.ir",
                    "dspx_lang.prompts",
                ), f"ir/{module} imports {name}"


def test_the_optimizer_artifact_module_the_runtime_reads_is_pure() -> None:
    """Importing it loads pydantic, the IR schema and the optimizer's plain data model only."""
    optimize = RUNTIME.parent / "optimize"
    for module, allowed in (
        ("artifact.py", ("dspx_lang.ir", "dspx_lang.optimize.model")),
        ("model.py", ()),
        ("__init__.py", ()),
    ):
        for name in imported_modules(optimize / module, top_level_only=True):
            if name.startswith("dspx_lang"):
                assert name in allowed, f"optimize/{module} imports {name}"
            else:
                assert name.split(".")[0] in (
                    "pydantic",
                    "__future__",
                    "datetime",
                    "os",
                    "tempfile",
                    "collections",
                    "pathlib",
                    "typing",
                    "math",
                    "dataclasses",
                    "importlib",
                ), f"optimize/{module} imports {name}"
