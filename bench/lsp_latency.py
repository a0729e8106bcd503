"""Language-server latency on a 2,000-line file, measured from a real LSP client over stdio.

Usage: .venv/bin/python bench/lsp_latency.py [--lines 2000] [--edits 200] [--requests 200]

Starts `python -m dspx_lang lsp` (what `dspxc lsp` runs), opens a generated file
(bench/gen_large.py) and measures, client side (JSON-RPC over pipes included):
  * didChange -> publishDiagnostics for that version, for typing-like edits inside
    programs (one character inserted into a name, a number changed, a new
    constraint line typed character by character, each followed by undoing it):
    the parse and semantic checks, published at once;
  * edit -> complete diagnostics: the second publication, after the server's quiet
    delay (passesDelayMs, 300 ms) and the space analysis and estimates;
  * completion and hover round trips at positions spread over the file, on an
    analysed document (the editor's common case);
  * completion right after an edit (the analysis of that edit included).
Prints p50/p95/max in ms against the targets (diagnostics p95 <= 50 ms, completion
and hover p95 <= 30 ms) and exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).parent))
from gen_large import generate

from dspx_lang.source import SourceFile

TARGETS_MS = {"didChange -> diagnostics": 50.0, "completion": 30.0, "hover": 30.0}


class Client:
    def __init__(self) -> None:
        self.lsp = LanguageClient("dspx-bench", "1")
        self.waiting: dict[tuple[int, int], asyncio.Future[float]] = {}
        self.counts: dict[int, int] = {}

        @self.lsp.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            version = params.version or -1
            self.counts[version] = self.counts.get(version, 0) + 1
            future = self.waiting.pop((version, self.counts[version]), None)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())

    async def start(self, root: Path) -> None:
        await self.lsp.start_io(sys.executable, "-m", "dspx_lang", "lsp")
        await self.lsp.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="bench")],
            )
        )
        self.lsp.initialized(types.InitializedParams())

    def expect(self, version: int, nth: int = 1) -> asyncio.Future[float]:
        """When the `nth` publication for `version` arrives (the 2nd: after the later passes)."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[(version, nth)] = future
        return future

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far (Linux)."""
        server = self.lsp._server
        assert server is not None
        fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def stop(self) -> None:
        await self.lsp.shutdown_async(None)
        self.lsp.exit(None)
        await self.lsp.stop()


class Document:
    def __init__(self, client: Client, path: Path, text: str) -> None:
        self.client = client
        self.uri = path.as_uri()
        self.text = text
        self.version = 1

    async def open(self) -> None:
        done = self.client.expect(1)
        self.client.lsp.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=self.uri, language_id="dspx", version=1, text=self.text
                )
            )
        )
        await asyncio.wait_for(done, 60)

    def position(self, offset: int) -> types.Position:
        line, character = SourceFile("x", self.text).lsp_position(offset)
        return types.Position(line=line, character=character)

    async def edit(self, start: int, end: int, new: str, nth: int = 1) -> float:
        """Send one incremental change; seconds until its `nth` publication arrives."""
        rng = types.Range(start=self.position(start), end=self.position(end))
        self.text = self.text[:start] + new + self.text[end:]
        self.version += 1
        done = self.client.expect(self.version, nth)
        sent = time.perf_counter()
        self.client.lsp.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
                content_changes=[types.TextDocumentContentChangePartial(range=rng, text=new)],
            )
        )
        arrived = await asyncio.wait_for(done, 60)
        return arrived - sent

    async def complete(self, offset: int) -> float:
        params = types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri),
            position=self.position(offset),
        )
        sent = time.perf_counter()
        result = await self.client.lsp.text_document_completion_async(params)
        elapsed = time.perf_counter() - sent
        assert result is not None, "no completion answer"
        return elapsed

    async def hover(self, offset: int) -> float:
        params = types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri),
            position=self.position(offset),
        )
        sent = time.perf_counter()
        await self.client.lsp.text_document_hover_async(params)
        return time.perf_counter() - sent


def edits(text: str, rng: random.Random, count: int) -> list[tuple[str, int, str]]:
    """(kind, offset, text) typing-like edits inside programs; each is undone afterwards."""
    names = [m.start() + 2 for m in re.finditer(r"\bdemos\b|\btemperature\b|\bquestion\b", text)]
    numbers = [m.start() for m in re.finditer(r"\b0\.7\b|\b4\b", text)]
    lines = [m.end() for m in re.finditer(r"\n  objective minimize cost weight 0\.3\n", text)]
    plan: list[tuple[str, int, str]] = []
    while len(plan) < count:
        kind = rng.choice(["name", "number", "line"])
        if kind == "name":
            plan.append(("name", rng.choice(names), "x"))
        elif kind == "number":
            plan.append(("number", rng.choice(numbers), "1"))
        else:
            plan.append(("line", rng.choice(lines), "  constraint demos <= 5\n"))
    return plan


def summary(name: str, seconds: list[float]) -> tuple[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * len(ms)) - 1)]
    target = TARGETS_MS.get(name)
    verdict = (
        ""
        if target is None
        else f"  target p95 <= {target:.0f} ms: " + ("ok" if p95 <= target else "MISSED")
    )
    line = (
        f"{name:<34} n={len(ms):<4} p50={statistics.median(ms):6.1f} ms  "
        f"p95={p95:6.1f} ms  max={ms[-1]:6.1f} ms{verdict}"
    )
    return line, p95


async def run(lines: int, edit_count: int, request_count: int) -> int:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="dspx-bench-") as tmp:
        path = Path(tmp) / "large.dspx"
        text = generate(lines)
        path.write_text(text, encoding="utf-8")
        client = Client()
        try:
            await client.start(Path(tmp))
        except RuntimeError:
            server = client.lsp._server
            if server is not None and server.stderr is not None:
                print((await server.stderr.read()).decode(), file=sys.stderr)
            raise
        doc = Document(client, path, text)
        started = time.perf_counter()
        await doc.open()
        opened = time.perf_counter() - started
        for _ in range(5):  # warm up: first completion loads the parser tables and model ids
            await doc.complete(text.index("step first = ") + len("step first = "))
        diagnostics: list[float] = []
        typed: list[float] = []
        cpu_before = client.cpu_seconds()
        for kind, offset, new in edits(doc.text, rng, edit_count):
            if kind == "line":
                for n, char in enumerate(new):  # typed character by character
                    typed.append(await doc.edit(offset + n, offset + n, char))
                diagnostics.append(await doc.edit(offset, offset + len(new), ""))
            else:
                diagnostics.append(await doc.edit(offset, offset, new))
                diagnostics.append(await doc.edit(offset, offset + len(new), ""))
        cpu_per_edit = (client.cpu_seconds() - cpu_before) / (len(diagnostics) + len(typed))
        complete: list[float] = []
        for kind, offset, new in edits(doc.text, rng, 10):
            if kind != "line":  # then pause: the space analysis and estimates run, and publish
                complete.append(await doc.edit(offset, offset, new, nth=2))
                complete.append(await doc.edit(offset, offset + len(new), "", nth=2))
        completions: list[float] = []
        hovers: list[float] = []
        spots = [
            *(m.end() for m in re.finditer(r"answer: second\.", doc.text)),
            *(m.end() for m in re.finditer(r"\n    model: ", doc.text)),
            *(m.end() for m in re.finditer(r"step first = ", doc.text)),
            *(m.start() + 2 for m in re.finditer(r"\n  var ", doc.text)),
        ]
        names = [
            m.start() + 1 for m in re.finditer(r"\b(Answer\d+|mini|temperature|first)\b", doc.text)
        ]
        for _ in range(request_count):
            completions.append(await doc.complete(rng.choice(spots)))
            hovers.append(await doc.hover(rng.choice(names)))
        after_edit: list[float] = []
        for _ in range(min(50, request_count)):
            at = rng.choice(spots)  # type a space, ask for completion at once, then undo
            doc.version += 1
            here = types.Range(start=doc.position(at), end=doc.position(at))
            client.lsp.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(
                        uri=doc.uri, version=doc.version
                    ),
                    content_changes=[types.TextDocumentContentChangePartial(range=here, text=" ")],
                )
            )
            doc.text = doc.text[:at] + " " + doc.text[at:]
            after_edit.append(await doc.complete(at + 1))
            await doc.edit(at, at + 1, "")
        await client.stop()
    print(
        f"dspx language server latency: {lines}-line file ({len(text):,} characters), "
        f"open + first analysis {opened * 1000:.0f} ms; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs"
    )
    results = [
        summary("didChange -> diagnostics", diagnostics + typed),
        summary("  (one char of a typed line)", typed),
        summary("completion", completions),
        summary("hover", hovers),
        summary("completion right after an edit", after_edit),
        summary("edit -> complete diagnostics", complete),
    ]
    for line, _ in results:
        print(line)
    print(f"server CPU time per edit (mean): {cpu_per_edit * 1000:.1f} ms")
    print(
        "reproduce: .venv/bin/python bench/lsp_latency.py "
        f"--lines {lines} --edits {edit_count} --requests {request_count}"
    )
    names = ["didChange -> diagnostics", "", "completion", "hover", "", ""]
    missed = [
        name
        for (_, p95), name in zip(results, names, strict=True)
        if name in TARGETS_MS and p95 > TARGETS_MS[name]
    ]
    return 1 if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    return asyncio.run(run(args.lines, args.edits, args.requests))


if __name__ == "__main__":
    sys.exit(main())
