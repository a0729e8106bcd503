"""Configurations: values for a program's variables, checked against domains and constraints.

Contract:
- `default_config(program)` is the file's defaults, variable by variable.
- `resolve_config(program, base, changes)` returns a complete, feasible configuration or
  raises `DspxConfigError` that names the program and what to do: an unknown variable (with
  the known ones), a value outside its domain (with the domain), or the first violated
  constraint (its label, source line, text and the values it read).
- A value is normalised to its domain's type: an int for `int` domains (3.0 is 3), a float for
  `float` domains, an identifier's name for choices over modules, adapters, models or enums.
  A `float ... step S` value must lie on the grid; instructions are any non-empty text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from dspx_lang.ir import schema as ir
from dspx_lang.runtime.errors import DspxConfigError
from dspx_lang.runtime.expr import EvalError, evaluate, names

__all__ = ["check_constraints", "default_config", "domain_text", "resolve_config"]


def default_config(program: ir.ProgramDecl) -> dict[str, Any]:
    return {v.name: v.default for v in program.variables}


def resolve_config(
    program: ir.ProgramDecl, base: Mapping[str, Any], changes: Mapping[str, Any]
) -> dict[str, Any]:
    variables = {v.name: v for v in program.variables}
    config = dict(base)
    for name, value in changes.items():
        var = variables.get(name)
        if var is None:
            known = ", ".join(variables) or "none"
            raise DspxConfigError(
                f"no variable '{name}' in program '{program.name}' (its variables: {known})",
                program=program.name,
            )
        config[name] = _normalise(program.name, var, value)
    check_constraints(program, config)
    return config


def check_constraints(program: ir.ProgramDecl, config: Mapping[str, Any]) -> None:
    """Raise `DspxConfigError` for the first constraint `config` violates."""
    for constraint in program.constraints:
        try:
            holds = evaluate(constraint.expr, config) is True
            problem = ""
        except EvalError as exc:
            holds, problem = False, f" (it cannot be evaluated: {exc})"
        if holds:
            continue
        label = f'"{constraint.label}" ' if constraint.label else ""
        where = f"{_short(program.file)}:{constraint.line}"
        used = ", ".join(f"{n}={_show(config.get(n))}" for n in names(constraint.expr))
        raise DspxConfigError(
            f"the configuration violates constraint {label}({where}): {constraint.text}"
            f"{problem}; it has {used}. Choose values that satisfy it.",
            program=program.name,
        )


def domain_text(domain: ir.Domain) -> str:
    if isinstance(domain, ir.ChoiceDomain):
        return "[" + ", ".join(_show(v, quote=domain.of == "string") for v in domain.values) + "]"
    if isinstance(domain, ir.IntDomain | ir.FloatDomain):
        kind = "int" if isinstance(domain, ir.IntDomain) else "float"
        text = f"{kind} in {domain.low}..{domain.high}"
        if domain.log:
            text += " log"
        if isinstance(domain, ir.FloatDomain) and domain.step is not None:
            text += f" step {domain.step}"
        return text
    if isinstance(domain, ir.BoolDomain):
        return "bool"
    return f"instructions({domain.signature})"


def _normalise(program: str, var: ir.VariableDecl, value: Any) -> Any:
    domain = var.domain
    normalised = _in_domain(domain, value)
    if normalised is None:
        raise DspxConfigError(
            f"variable '{var.name}' must be in {domain_text(domain)}, not {_show(value)}",
            program=program,
        )
    return normalised


def _in_domain(domain: ir.Domain, value: Any) -> Any:
    if isinstance(domain, ir.BoolDomain):
        return value if isinstance(value, bool) else None
    if isinstance(domain, ir.InstructionsDomain):
        return value if isinstance(value, str) and value.strip() else None
    if isinstance(domain, ir.ChoiceDomain):
        if domain.of in ("int", "float", "bool"):
            matches = [
                v
                for v in domain.values
                if isinstance(v, bool) == isinstance(value, bool) and v == value
            ]
            return matches[0] if matches else None
        # A str subclass (a generated enum member) counts as its value.
        text = str(value) if isinstance(value, str) else None
        return text if text in domain.values else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(domain, ir.IntDomain):
        if isinstance(value, float) and not value.is_integer():
            return None
        number: float | int = int(value)
    else:
        number = float(value)
        if not math.isfinite(number):
            return None
    if not domain.low <= number <= domain.high:
        return None
    if isinstance(domain, ir.FloatDomain) and domain.step is not None:
        k = (number - domain.low) / domain.step
        if not math.isclose(k, round(k), abs_tol=1e-9):
            return None
    return number


def _show(value: Any, quote: bool = True) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and quote and not value.isidentifier():
        return f'"{value}"' if len(value) <= 40 else f'"{value[:37]}..."'
    return str(value)


def _short(path: str) -> str:
    return path.rsplit("/", 1)[-1]
