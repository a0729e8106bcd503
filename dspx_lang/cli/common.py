"""Helpers shared by commands: file arguments, output styling, error lines."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_output_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="output format (json: LSP-style ranges, for tools)",
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="print only diagnostics, no summary"
    )


def expand(paths: list[str]) -> list[str]:
    """Files as given; directories become the .dspx files under them, sorted."""
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            files.extend(sorted(str(p) for p in Path(path).rglob("*.dspx")))
        else:
            files.append(path)
    return files


def use_color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def fail(message: str) -> None:
    """A one-line error on stderr: what went wrong and, when known, what to do."""
    print(f"dspxc: error: {message}", file=sys.stderr)
