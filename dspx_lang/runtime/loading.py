"""`load`: a runtime `Program` from an IR file, without the compiler.

Contract: reads `<stem>.ir.json` through `dspx_lang.ir` (the pydantic schema only; no parser,
no checker). A missing or unreadable file, IR of another version or shape, or an unknown
program name is a `DspxConfigError` that says what to do.
"""

from __future__ import annotations

from pathlib import Path

from dspx_lang.ir import IRVersionError, read_package
from dspx_lang.runtime.errors import DspxConfigError
from dspx_lang.runtime.lm import LMClient
from dspx_lang.runtime.program import Program

__all__ = ["load"]


def load(
    path: str | Path, program: str | None = None, *, client: LMClient | None = None
) -> Program:
    """The program `program` of the IR at `path` (the only one when `program` is None)."""
    try:
        package = read_package(path)
    except OSError as exc:
        raise DspxConfigError(
            f"cannot read the IR file {path}: {exc.strerror or exc}; compile it with "
            "`dspxc compile FILE.dspx -o DIR`"
        ) from None
    except IRVersionError as exc:
        raise DspxConfigError(str(exc)) from None
    if program is None:
        if len(package.programs) != 1:
            names = ", ".join(package.programs) or "none"
            raise DspxConfigError(
                f"{path} holds the programs {names}: say which one, e.g. "
                f"load({str(path)!r}, {next(iter(package.programs), 'NAME')!r})"
            )
        program = next(iter(package.programs))
    return Program(package, program, client=client)
