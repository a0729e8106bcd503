"""The IR of compiled programs: `schema` (pydantic models, runtime-safe); lowering is
`dspx_lang.ir.lower.lower` (compiler side).

Contract: importing this package imports only `dspx_lang.ir.schema` (pydantic, no compiler
code), so the runtime may read the IR through it.
`read_package`/`write_package` are the one way the IR goes to and from JSON.
"""

from __future__ import annotations

from pathlib import Path

from dspx_lang.ir.schema import IR_VERSION, Package, ProgramEstimate

__all__ = [
    "IR_VERSION",
    "IRVersionError",
    "Package",
    "ProgramEstimate",
    "package_from_json",
    "read_package",
    "write_package",
]


class IRVersionError(ValueError):
    """The IR JSON is not valid IR of a version this dspx reads."""


def package_from_json(text: str | bytes, *, origin: str = "IR") -> Package:
    """Parse and validate IR JSON; a wrong version or shape is an `IRVersionError`."""
    import json

    from pydantic import ValidationError

    try:
        data = json.loads(text)
    except ValueError as exc:
        raise IRVersionError(f"{origin}: not JSON ({exc})") from None
    version = data.get("ir_version") if isinstance(data, dict) else None
    if version != IR_VERSION:
        raise IRVersionError(
            f"{origin}: IR version {version!r}, but this dspx reads version {IR_VERSION}; "
            "recompile the .dspx file with this dspxc"
        )
    try:
        return Package.model_validate(data)
    except ValidationError as exc:
        raise IRVersionError(f"{origin}: not valid IR: {exc}") from None


def read_package(path: str | Path) -> Package:
    """Read `<stem>.ir.json`; OSError when it cannot be read, IRVersionError when invalid."""
    return package_from_json(Path(path).read_bytes(), origin=str(path))


def write_package(package: Package, path: str | Path) -> None:
    Path(path).write_text(package.model_dump_json(indent=1) + "\n", encoding="utf-8")
