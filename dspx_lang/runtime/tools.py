"""Tools for the `react` module: resolving `"module:function"` targets and calling them.

Contract:
- `resolve_tool(decl)` imports the target's module from the directory of the `.dspx` file
  that declares the tool first (`tools.py` next to `count.dspx`), then from `sys.path`; a
  module found next to the file is loaded under a private name, so it never shadows or
  replaces a module of the same name elsewhere. Failures are `DspxConfigError`s that say
  where it looked.
- `ResolvedTool.acall(arguments)` never raises for a tool's own failure: bad arguments and
  exceptions become an observation text starting with `error:` that the LM reads. Results
  are JSON text (strings as they are). Synchronous tools run in a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import importlib.util
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from dspx_lang.ir import schema as ir
from dspx_lang.runtime.coerce import Coercer, CoercionError, coercer_for
from dspx_lang.runtime.errors import DspxConfigError

__all__ = ["ResolvedTool", "resolve_tool"]

_OBSERVATION_LIMIT = 4000


@dataclass(frozen=True, slots=True)
class ResolvedTool:
    decl: ir.ToolDecl
    function: Callable[..., Any]
    params: tuple[tuple[str, Coercer, bool, Any], ...]  # name, coercer, has default, default

    async def acall(self, arguments: Any) -> str:
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except ValueError as exc:
                return f"error: the arguments are not valid JSON ({exc})"
        if not isinstance(arguments, dict):
            return "error: the arguments must be a JSON object"
        known = {name for name, *_ in self.params}
        unknown = sorted(set(arguments) - known)
        if unknown:
            return f"error: unknown argument(s) {', '.join(unknown)}; expected {sorted(known)}"
        kwargs: dict[str, Any] = {}
        for name, coerce, has_default, default in self.params:
            if name not in arguments:
                if not has_default:
                    return f"error: missing argument '{name}'"
                kwargs[name] = default
                continue
            try:
                kwargs[name] = coerce(arguments[name], False, name)
            except CoercionError as exc:
                return f"error: argument {exc}"
        try:
            if inspect.iscoroutinefunction(self.function):
                result = await self.function(**kwargs)
            else:
                result = await asyncio.to_thread(self.function, **kwargs)
        except Exception as exc:  # a tool's failure is an observation for the LM
            return f"error: {type(exc).__name__}: {exc}"[:_OBSERVATION_LIMIT]
        text = result if isinstance(result, str) else json.dumps(result, default=str)
        return text[:_OBSERVATION_LIMIT]


def resolve_tool(package: ir.Package, decl: ir.ToolDecl) -> ResolvedTool:
    module_name, sep, attribute = decl.target.partition(":")
    if not sep or not module_name or not attribute:
        raise DspxConfigError(
            f"tool '{decl.name}': target {decl.target!r} must look like 'module:function'"
        )
    module = _import(decl, module_name)
    function: Any = module
    for part in attribute.split("."):
        function = getattr(function, part, None)
        if function is None:
            raise DspxConfigError(
                f"tool '{decl.name}': module '{module_name}' ({module.__file__}) has no "
                f"'{attribute}'"
            )
    if not callable(function):
        raise DspxConfigError(f"tool '{decl.name}': '{decl.target}' is not callable")
    params = tuple(
        (p.name, coercer_for(package, p.type), p.has_default, p.default) for p in decl.params
    )
    return ResolvedTool(decl, function, params)


def _import(decl: ir.ToolDecl, module_name: str) -> ModuleType:
    base = Path(decl.file).parent if decl.file else None
    if base is not None:
        local = base.joinpath(*module_name.split("."))
        for candidate in (local.with_suffix(".py"), local / "__init__.py"):
            if candidate.is_file():
                return _load_file(module_name, candidate)
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        where = f"next to {decl.file} and " if base is not None else ""
        raise DspxConfigError(
            f"tool '{decl.name}': cannot import module '{module_name}' (looked {where}on "
            f"sys.path): {exc}"
        ) from None


def _load_file(module_name: str, path: Path) -> ModuleType:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    private = f"_dspx_tool_{digest}_{module_name.replace('.', '_')}"
    loaded = sys.modules.get(private)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(private, path)
    if spec is None or spec.loader is None:
        raise DspxConfigError(f"cannot load tool module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[private] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[private]
        raise DspxConfigError(f"tool module {path} failed to import: {exc}") from exc
    return module
