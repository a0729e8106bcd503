"""Generate `docs/diagnostics.md` from the code registry.

`python -m dspx_lang.diagnostics.docgen > docs/diagnostics.md`; a test checks
the committed file equals this output, so the reference never drifts.
"""

from __future__ import annotations

from dspx_lang.diagnostics.registry import CODES

HEADER = """\
# Diagnostics reference

Every diagnostic `dspxc check` and the language server report has a stable
code. Codes starting with **E** are errors (compilation stops; `dspxc check`
exits 1), **W** warnings (reported; `--werror` makes them errors), **I**
information. In JSON output each diagnostic also carries the code's name.

This file is generated from `dspx_lang/diagnostics/registry.py`
(`python -m dspx_lang.diagnostics.docgen > docs/diagnostics.md`).

| code | name | summary |
|---|---|---|
"""


def generate() -> str:
    rows = "".join(
        f"| [{c.id}](#{c.id.lower()}) | `{c.name}` | {c.summary} |\n" for c in CODES.values()
    )
    sections = []
    for code in CODES.values():
        sections.append(
            f"## {code.id}\n\n"
            f"**`{code.name}`** — {code.summary}\n\n"
            f"{code.why}\n\n"
            f"Example:\n\n```dspx\n{code.example}\n```\n\n"
            f"Fix: {code.fix}\n"
        )
    return HEADER + rows + "\n" + "\n".join(sections)


if __name__ == "__main__":
    print(generate(), end="")
