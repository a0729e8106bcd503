"""Language-server memory on a 200-file workspace, measured from a real LSP client.

Usage: .venv/bin/python bench/lsp_memory.py [--files 200] [--lines 250]

Writes a workspace of FILES `.dspx` files (bench/gen_large.py blocks, LINES lines
each; every tenth file is a small library the others import), starts
`python -m dspx_lang lsp` on it, opens every file (waiting for its diagnostics),
asks for workspace symbols (which parses every file) and references to a
library enum (which analyses every importer), then reads the server's resident
memory from /proc. Target: under 300 MB. Exits 1 if the target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).parent))
from gen_large import generate

TARGET_MB = 300.0


def write_workspace(root: Path, files: int, lines: int) -> list[Path]:
    paths = []
    for n in range(files):
        if n % 10 == 0:
            text = f"/// Library {n}.\nenum Lib{n} {{\n  first\n  second\n}}\n"
        else:
            lib = n - n % 10
            uses = f"class UsesLib {{\n  kind: Lib{lib}\n}}\n\n"
            text = f'import "file{lib:03d}.dspx"\n\n' + uses + generate(lines)
        path = root / f"file{n:03d}.dspx"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident, peak resident) memory of a process in MB, from /proc (Linux)."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def run(files: int, lines: int) -> int:
    with tempfile.TemporaryDirectory(prefix="dspx-bench-") as tmp:
        root = Path(tmp)
        paths = write_workspace(root, files, lines)
        client = LanguageClient("dspx-bench", "1")
        seen: dict[str, asyncio.Event] = {p.as_uri(): asyncio.Event() for p in paths}

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            if params.uri in seen and params.version == 1:
                seen[params.uri].set()

        await client.start_io(sys.executable, "-m", "dspx_lang", "lsp")
        server = client._server
        assert server is not None
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="bench")],
            )
        )
        client.initialized(types.InitializedParams())
        idle, _ = memory_mb(server.pid)
        started = time.perf_counter()
        for path in paths:
            client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    text_document=types.TextDocumentItem(
                        uri=path.as_uri(),
                        language_id="dspx",
                        version=1,
                        text=path.read_text(encoding="utf-8"),
                    )
                )
            )
            await asyncio.wait_for(seen[path.as_uri()].wait(), 120)
        opened = time.perf_counter() - started
        symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="Lib"))
        references = await client.text_document_references_async(
            types.ReferenceParams(
                text_document=types.TextDocumentIdentifier(uri=paths[0].as_uri()),
                position=types.Position(line=1, character=6),
                context=types.ReferenceContext(include_declaration=True),
            )
        )
        resident, peak = memory_mb(server.pid)
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    total_lines = sum(1 for n in range(files) if n % 10) * lines
    print(
        f"dspx language server memory: {files} files open ({total_lines:,} lines), "
        f"opened and analysed in {opened:.1f} s; {len(symbols or [])} workspace symbols "
        f"for 'Lib', {len(references or [])} references to Lib0"
    )
    print(f"resident: idle {idle:.0f} MB, now {resident:.0f} MB, peak {peak:.0f} MB")
    verdict = "ok" if peak <= TARGET_MB else "MISSED"
    print(f"target: peak under {TARGET_MB:.0f} MB: {verdict}")
    print(f"reproduce: .venv/bin/python bench/lsp_memory.py --files {files} --lines {lines}")
    return 0 if peak <= TARGET_MB else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--lines", type=int, default=250)
    args = parser.parse_args()
    return asyncio.run(run(args.files, args.lines))


if __name__ == "__main__":
    if not os.path.exists("/proc/self/status"):
        sys.exit("bench/lsp_memory.py reads /proc: run it on Linux")
    sys.exit(main())
