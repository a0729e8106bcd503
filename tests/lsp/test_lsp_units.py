"""Unit tests of the feature logic against the semantic model (no server process)."""

from __future__ import annotations

import asyncio
import itertools
import shutil
from pathlib import Path

import pytest
from dspx_lsp.convert import path_to_uri
from dspx_lsp.documents import KEEP_REPORTS, Documents
from dspx_lsp.edits import EditLog
from dspx_lsp.features import code_actions, completion, folding, hover, inlay_hints, symbols
from dspx_lsp.features.formatting import line_edits
from dspx_lsp.features.rename import plan_rename
from dspx_lsp.features.semantic_tokens import encode, tokens
from dspx_lsp.features.trail import classify
from dspx_lsp.guard import RequestFailed, guarded
from dspx_lsp.server import Options
from dspx_lsp.xref import importers_of, references
from lsp_store import WORKSPACE, Store

from dspx_lang.source import SourceFile, Span
from dspx_lang.syntax.complete import decl_start, expected_at


@pytest.fixture
def store(tmp_path: Path) -> Store:
    found = Store.copy(tmp_path)
    found.open("qa.dspx")
    return found


def test_expected_tokens_follow_the_grammar_contextually() -> None:
    program = "program p {\n  var model: [a]\n  "
    expected = expected_at(program, len(program))
    assert expected.keywords == {
        "in",
        "out",
        "var",
        "step",
        "return",
        "constraint",
        "objective",
        "budget",
        "optimize",
    }
    assert not expected.accepts_name
    # `model` is a keyword at the top level but a name after `var` (contextual lexing).
    after_var = expected_at("program p {\n  var mod", len("program p {\n  var mod"))
    assert after_var.prefix == "mod"
    assert after_var.accepts_name
    assert after_var.keywords == frozenset()


def test_expected_tokens_tolerate_errors_before_the_cursor() -> None:
    text = "program p {\n  in x: string ### ??\n  step s = "
    expected = expected_at(text, len(text))
    assert classify(expected).what == "module"


def test_decl_start_is_the_last_declaration_line_before_the_offset() -> None:
    text = 'model a = "x"\n\nprogram p {\n  var x: bool\n}\n'
    assert decl_start(text, text.index("var")) == text.index("program")
    assert decl_start(text, 3) == 0


def test_hover_markdown_for_a_variable_shows_its_domain_and_default(store: Store) -> None:
    here = store.here("qa.dspx", "var temperature", 5)
    found = hover.hover_markdown(here)
    assert found is not None
    text, span = found
    assert text.startswith("```dspx\nvar temperature: float in 0.0..1.5 = 0.7\n```")
    assert span == Span(here.offset - 1, here.offset - 1 + len("temperature"))


def test_completion_keeps_the_typed_prefix_range(store: Store) -> None:
    text = store.text("qa.dspx").replace("    demos: demos\n", "    demos: demos\n    max_t\n")
    store.open("qa.dspx", text)
    here = store.here("qa.dspx", "    max_t")
    found = completion.completions(here, store.documents)
    assert "max_tokens" in [i.label for i in found.items]
    assert (found.start, found.end) == (here.offset - len("max_t"), here.offset)


def test_outline_children_lie_inside_their_parents(store: Store) -> None:
    source = store.source("qa.dspx")
    module = (
        store.documents.compile(store.path("qa.dspx")).model.files[store.path("qa.dspx")].module
    )
    for parent in symbols.outline(source, module):
        for child in parent.children or []:
            assert (parent.range.start.line, parent.range.start.character) <= (
                child.range.start.line,
                child.range.start.character,
            )
            assert (child.range.end.line, child.range.end.character) <= (
                parent.range.end.line,
                parent.range.end.character,
            )
            assert (
                child.range.start.line <= child.selection_range.start.line <= child.range.end.line
            )


def test_workspace_symbol_matching_is_a_case_insensitive_subsequence() -> None:
    assert symbols.matches("aq", "AnswerQuestion")
    assert symbols.matches("", "anything")
    assert not symbols.matches("qa", "AnswerQuest")


def test_semantic_tokens_encode_relative_utf16_positions() -> None:
    source = SourceFile("x", "a 🇫🇷 bb\ncc\n")
    data = encode(source, [(0, 1, 0, 0), (5, 7, 1, 1), (8, 10, 2, 0)])
    # "bb" starts at UTF-16 column 7: each flag half is a surrogate pair.
    assert data == [0, 0, 1, 0, 0, 0, 7, 2, 1, 1, 1, 0, 2, 2, 0]


def test_semantic_tokens_never_overlap(store: Store) -> None:
    model = store.documents.compile(store.path("qa.dspx")).model
    found = tokens(model, store.path("qa.dspx"))
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(found))


def test_folding_ranges_span_lines_and_are_distinct(store: Store) -> None:
    source = store.source("qa.dspx")
    module = (
        store.documents.compile(store.path("qa.dspx")).model.files[store.path("qa.dspx")].module
    )
    found = [(r.start_line, r.end_line) for r in folding.folding_ranges(source, module)]
    assert found
    assert all(end > start for start, end in found)
    assert len(set(found)) == len(found)


def test_quick_fixes_come_from_the_diagnostic(store: Store) -> None:
    text = store.text("qa.dspx").replace("question: question)", "question: quesion)")
    store.open("qa.dspx", text)
    compilation = store.documents.compile(store.path("qa.dspx"))
    at = text.index("quesion")
    actions = code_actions.quick_fixes(
        store.documents, compilation, store.path("qa.dspx"), Span(at, at)
    )
    assert [a.title for a in actions] == ["Change to 'question'"]
    elsewhere = code_actions.quick_fixes(
        store.documents, compilation, store.path("qa.dspx"), Span(0, 1)
    )
    assert elsewhere == []


def test_inlay_hints_name_implicit_defaults(store: Store) -> None:
    text = store.text("qa.dspx").replace("var demos: int in 0..8 = 4", "var demos: int in 3..8")
    store.open("qa.dspx", text)
    labels = [label for _, label, _ in inlay_hints.hints(store.here("qa.dspx"))]
    assert "= 3" in labels


def test_rename_plans_edits_in_every_file_that_sees_the_symbol(store: Store) -> None:
    edits = plan_rename(store.documents, store.here("qa.dspx", "[mini, local]", 1), "small")
    assert set(edits) == {store.path("qa.dspx"), store.path("shared.dspx")}
    assert all(new == "small" for items in edits.values() for _, new in items)


def test_rename_refuses_a_collision_in_an_importing_file(store: Store) -> None:
    store.open("shared.dspx")
    here = store.here("shared.dspx", "model local", 6)
    with pytest.raises(RequestFailed, match="cannot rename 'local' to 'AnswerQuestion'"):
        plan_rename(store.documents, here, "AnswerQuestion")


def test_rename_accepts_names_in_separate_namespaces(store: Store) -> None:
    # Variables and fields are separate namespaces: a variable may share an input's name.
    edits = plan_rename(store.documents, store.here("qa.dspx", "var demos", 5), "question")
    assert len(edits[store.path("qa.dspx")]) == 2


def test_references_reach_files_that_import_the_declaring_file(store: Store) -> None:
    assert importers_of(store.documents, store.path("shared.dspx")) == [store.path("qa.dspx")]
    compilation = store.documents.compile(store.path("shared.dspx"))
    symbol = (
        compilation.model.scope_symbol
        if False
        else next(s for s in compilation.model.symbols if s.name == "Topic")
    )
    sites = references(store.documents, store.path("shared.dspx"), symbol)
    assert sites[0] == (store.path("shared.dspx"), symbol.span)


def test_line_edits_touch_only_changed_lines() -> None:
    source = SourceFile("x", "a\nb\nc\n")
    [edit] = line_edits(source, "a\nB\nc\n")
    assert (edit.range.start.line, edit.range.end.line, edit.new_text) == (1, 2, "B\n")


def test_options_are_read_leniently() -> None:
    assert Options.parse(
        {"debounceMs": 250, "passesDelayMs": 0, "clientCommands": True}
    ) == Options(0.25, 0.0, True)
    assert Options.parse({"debounceMs": "fast", "clientCommands": "yes"}) == Options()
    assert Options.parse(None) == Options()


def test_guard_answers_neutrally_and_lets_refusals_through() -> None:
    @guarded(list)
    def broken() -> list[int]:
        raise ValueError("boom")

    @guarded(lambda: None)
    def refusing() -> None:
        raise RequestFailed("no")

    @guarded(dict)
    async def broken_async() -> dict[str, int]:
        raise KeyError("boom")

    assert broken() == []
    with pytest.raises(RequestFailed):
        refusing()
    assert asyncio.run(broken_async()) == {}


def test_edit_log_moves_spans_and_drops_touched_ones() -> None:
    log = EditLog()
    mark = log.mark("f")
    log.record("f", 10, 10, 3)  # three characters inserted at 10
    log.record("f", 40, 45, 0)  # five deleted at 40 (after the insertion)
    assert log.map_span("f", Span(0, 5), mark) == Span(0, 5)
    assert log.map_span("f", Span(10, 12), mark) == Span(13, 15)  # insertion at its start
    assert log.map_span("f", Span(20, 25), mark) == Span(23, 28)
    assert log.map_span("f", Span(8, 12), mark) is None  # the insertion is inside it
    assert log.map_span("f", Span(38, 41), mark) is None  # the deletion overlaps it
    assert log.map_span("f", Span(50, 52), mark) == Span(48, 50)
    log.forget("f")
    assert log.map_span("f", Span(0, 5), mark) is None  # the log restarted: nothing maps


def test_space_reports_are_dropped_beyond_the_limit_and_made_again(tmp_path: Path) -> None:
    documents = Documents()
    paths = []
    text = (WORKSPACE / "qa.dspx").read_text(encoding="utf-8")
    shutil.copy(WORKSPACE / "shared.dspx", tmp_path / "shared.dspx")
    shutil.copytree(WORKSPACE / "data", tmp_path / "data")
    for n in range(KEEP_REPORTS + 2):
        path = tmp_path / f"qa{n}.dspx"
        path.write_text(text, encoding="utf-8")
        documents.open(path_to_uri(str(path)), text, 1)
        documents.finish(str(path))
        paths.append(str(path))
    kept = [p for p in paths if documents._passed[p].reports is not None]
    assert kept == paths[-KEEP_REPORTS:]
    assert set(documents.reports(paths[0])) == {"qa"}  # analysed again on demand
    assert documents._passed[paths[1]].reports is None  # ...which dropped the next oldest


def test_hover_lists_values_the_space_analysis_found_dead(store: Store) -> None:
    text = store.text("qa.dspx").replace(
        "  constraint reasoning == cot => temperature <= 1.0\n",
        "  constraint reasoning == cot => temperature <= 1.0\n  constraint adapter == json\n",
    )
    store.open("qa.dspx", text)
    store.documents.finish(store.path("qa.dspx"))
    found = hover.hover_markdown(store.here("qa.dspx", "var adapter", 5))
    assert found is not None
    assert "**Never chosen:**" in found[0]
    assert "chat" in found[0].split("**Never chosen:**")[1]


def test_model_settings_read_with_units() -> None:
    from dspx_lsp.features.hover import _setting_text

    assert _setting_text("timeout", 30.0) == "30s"
    assert _setting_text("first_token_latency", 0.25) == "0.25s"
    assert _setting_text("input_cost", 0.15) == "$0.15 per 1M tokens"
    assert _setting_text("tokens_per_second", 38) == "38 tokens/s"
    assert _setting_text("retries", 3) == "3"
    assert _setting_text("api_base", "http://x") == "http://x"
