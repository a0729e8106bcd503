"""The semantic model's queries the language server builds on: symbol at a position,
definition of a use, and every reference to a symbol, across imported files."""

from __future__ import annotations

from pathlib import Path

from dspx_lang.driver import Session
from dspx_lang.semantics.model import SymbolKind


def test_definition_and_references_across_files(tmp_path: Path) -> None:
    (tmp_path / "models.dspx").write_text('model mini = "openai/gpt-4o-mini"\n', encoding="utf-8")
    main = tmp_path / "main.dspx"
    text = (
        'import "models.dspx"\n'
        "signature S {\n  in x: string\n  out y: string\n}\n"
        "program p {\n  in x: string\n  out y: string\n"
        "  var model: [mini] = mini\n"
        "  step s = predict S(x) { model: model }\n  return s\n}\n"
    )
    main.write_text(text, encoding="utf-8")
    compilation = Session().check(str(main))
    model = compilation.model
    root = compilation.root
    use = text.index("[mini]") + 1  # `mini` in the variable's domain
    definition = model.definition_at(root, use)
    assert definition is not None
    assert definition.kind is SymbolKind.MODEL
    assert definition.file.endswith("models.dspx")
    sites = model.references_to(definition)
    assert (definition.file, definition.span) in sites
    assert sum(1 for f, _ in sites if f == root) == 2  # the domain member and the default
    var_use = text.index("model: model") + len("model: ")
    variable = model.symbol_at(root, var_use)
    assert variable is not None
    assert variable.kind is SymbolKind.VARIABLE
    assert [s.name for s in model.symbols_in(root) if s.kind is SymbolKind.STEP] == ["s"]
    assert model.definition_at(root, text.index("predict")) is None  # a built-in
