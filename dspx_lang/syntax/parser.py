"""parse(): `.dspx` text -> `ast.Module` + E001 diagnostics, never an exception.

Contract: `parse` accepts any text and always returns a module. Syntax errors
become E001 diagnostics with what was expected; the parser recovers so later
errors are reported too and the tree keeps every declaration and program item
that parsed (the editor needs it). Keywords are contextual: the lexer turns a
keyword into a name where the parser state takes a name but not the keyword
(`var model`, `model: model`); where LALR state merging hides that, a keyword
the parser rejects is re-read as a name, unless it opens a line and is
followed by what it introduces (`var x`). Recovery, in order:
  * a token that opens a declaration or a program item at the start of a line,
    or a closing bracket, resynchronises: missing `)`/`]`/`}` are inserted when
    that lets the token continue the tree, else the unfinished construct is
    dropped (parser states popped) until the token fits;
  * any other unexpected token is skipped (brackets skipped are balanced);
  * at end of file, open constructs are closed.
At most one error is reported per line, so one mistake does not cascade.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any, cast

from lark import Lark, Token, Tree
from lark.common import LexerConf
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import BasicLexer, Lexer, LexerState
from lark.parsers.lalr_interactive_parser import InteractiveParser

from dspx_lang.diagnostics import Diagnostic, Severity
from dspx_lang.source import SourceFile, Span
from dspx_lang.syntax import ast
from dspx_lang.syntax.grammar import grammar_text
from dspx_lang.syntax.transform import CALLBACKS, STATE, ParseState, flatten

DECL_KEYWORDS = frozenset(
    {"IMPORT", "MODEL", "ENUM", "CLASS", "SIGNATURE", "TOOL", "DATASET", "PROGRAM", "TEST"}
)
ITEM_KEYWORDS = frozenset(
    {
        "IN",
        "OUT",
        "VAR",
        "STEP",
        "RETURN",
        "CONSTRAINT",
        "OBJECTIVE",
        "BUDGET",
        "OPTIMIZE",
        "INPUT",
        "EXPECT",
    }
)
OPENERS = frozenset({"LPAR", "LSQB", "LBRACE"})
CLOSERS = ("RPAR", "RSQB")  # not `>`: it is also an operator, inserting it never closes
MAX_ERROR_EVENTS = 1000  # beyond this the rest of the file is skipped (and said so)
MAX_CLOSERS = 8  # brackets inserted to resynchronise, at most
MAX_POPS = 64  # unfinished constructs dropped to resynchronise, at most

_FRIENDLY = {
    "NAME": "a name",
    "STRING": "a string",
    "BLOCK_STRING": "a block string",
    "NUMBER": "a number",
    "MONEY": "an amount such as $0.01",
    "DURATION": "a duration such as 2s",
    "STEP_SIZE": "'step'",
    "RANGE_IN": "'in'",
    "MEMBER_IN": "'in'",
    "$END": "end of file",
}
# Tokens after which a construct can be complete: a keyword opening the next line after one
# of these is a name where a name fits (`when` as an optimize key after `sampler tpe`).
COMPLETE = frozenset(
    {
        "NAME",
        "STRING",
        "BLOCK_STRING",
        "NUMBER",
        "MONEY",
        "DURATION",
        "RPAR",
        "RSQB",
        "RBRACE",
        "TRUE",
        "FALSE",
        "QMARK",
        "MORETHAN",
        "LOG",
    }
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# What follows a keyword that opens a construct: a name, a block, a label.
# What follows a keyword that opens a construct (`var x`, `optimize {`, `constraint "a":`).
_FOLLOWED = re.compile(r"[ \t]*(?:(?!(?:and|or|in)(?![A-Za-z0-9_]))[A-Za-z_{]|([\"(]))")
RESERVED = frozenset({"in", "out", "and", "or", "not", "true", "false"})
_SKIP_RUN = re.compile(r"[^\s{}()\[\],\"]*")


@dataclass(slots=True)
class ParseResult:
    source: SourceFile
    module: ast.Module
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.diagnostics


def _collect_comment(token: Token) -> Token:
    start = token.start_pos or 0
    STATE.get().comments.append(
        ast.Comment(text=str(token).rstrip("\r"), span=Span(start, token.end_pos or start))
    )
    return token


class _KeywordLexer(Lexer):
    """lark's basic lexer (one regex), with contextual keywords: a keyword the parser
    state cannot take, where it can take a name, is a name. The same rule as lark's
    contextual lexer, without compiling a regex per parser state (~100 ms per process)."""

    __future_interface__ = 2

    def __init__(self, conf: LexerConf) -> None:
        self.basic = BasicLexer(conf)
        self.keywords = frozenset(
            t.name
            for t in conf.terminals
            if t.pattern.type == "str"
            and _IDENTIFIER.fullmatch(t.pattern.value)
            and t.pattern.value not in RESERVED
        )

    def lex(self, state: LexerState, parser_state: Any) -> Iterator[Token]:
        table = parser_state.parse_conf.parse_table.states
        keywords = self.keywords
        parse = STATE.get()
        for token in self.basic.lex(state, parser_state):
            if token.type in keywords:
                actions = table[parser_state.position]
                if (
                    token.type not in actions
                    and "NAME" in actions
                    and not opens_construct(state.text.text, token, parse.previous)
                ):
                    token.type = "NAME"
            parse.before, parse.previous = parse.previous, token
            yield token


def opens_construct(text: str, token: Token, previous: Token | None) -> bool:
    """Does this keyword start a new construct after an unfinished one (`constraint x ==`
    then `var y` on the next line)? Only a declaration or item keyword, opening a line
    after a token that leaves something unfinished, and followed by what it introduces."""
    if token.type not in DECL_KEYWORDS and token.type not in ITEM_KEYWORDS:
        return False
    if previous is not None and previous.type in COMPLETE:
        return False
    start = token.start_pos or 0
    if text[text.rfind("\n", 0, start) + 1 : start].strip():
        return False
    match = _FOLLOWED.match(text, token.end_pos or start)
    return match is not None and (match.group(1) is None or token.type == "CONSTRAINT")


@cache
def _parser() -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer=_KeywordLexer,
        keep_all_tokens=True,
        maybe_placeholders=True,
        transformer=_Callbacks(),
        lexer_callbacks={
            "LINE_COMMENT": _collect_comment,
            "BLOCK_COMMENT": _collect_comment,
        },
        cache=True,
    )


class _Callbacks:
    """Adapts the builder's callback table to lark's transformer protocol."""

    def __getattr__(self, name: str) -> Any:
        try:
            return CALLBACKS[name]
        except KeyError:
            raise AttributeError(name) from None


@cache
def _display_names() -> dict[str, str]:
    names = dict(_FRIENDLY)
    for terminal in _parser().terminals:
        if terminal.name not in names and terminal.pattern.type == "str":
            names[terminal.name] = f"'{terminal.pattern.value}'"
    return names


# Terminals that continue an expression; listed together as "an operator".
OPERATORS = frozenset(
    {
        "EQ",
        "NE",
        "LE",
        "GE",
        "LESSTHAN",
        "MORETHAN",
        "PLUS",
        "MINUS",
        "STAR",
        "SLASH",
        "AND",
        "OR",
        "IMPLIES",
        "MEMBER_IN",
        "NOT",
        "DOT",
    }
)
# Terminals that can start an expression; listed together as "an expression".
EXPRESSION_START = frozenset(
    {
        "LPAR",
        "MINUS",
        "LSQB",
        "FALSE",
        "TRUE",
        "NOT",
        "STRING",
        "BLOCK_STRING",
        "NUMBER",
        "MONEY",
        "DURATION",
        "NAME",
    }
)


def describe_expected(expected: Iterable[str]) -> str:
    names = _display_names()
    wanted = set(expected)
    if len(wanted & EXPRESSION_START) >= 6:
        wanted = (wanted - EXPRESSION_START) | {"an expression"}
    operators = wanted & OPERATORS
    shown = sorted({names.get(e, e) for e in wanted - OPERATORS if not e.startswith("__")})
    shown.sort(key=lambda s: (not s.startswith("'"), s))
    if len(operators) > 2:
        shown.append("an operator")
    else:
        shown.extend(sorted(names.get(e, e) for e in operators))
    if not shown:
        return "nothing more here"
    if len(shown) == 1:
        return shown[0]
    head = shown[:8]
    more = f", … ({len(shown) - 8} more)" if len(shown) > 8 else ""
    return "one of " + ", ".join(head) + more


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "end of file"
    text = str(token)
    if len(text) > 30:
        text = text[:27] + "..."
    if token.type in ("STRING", "BLOCK_STRING"):
        return f"string {text}"
    if token.type == "NAME":
        return f"'{text}'"
    if text.isidentifier():
        return f"keyword '{text}'"
    return f"'{text}'"


class _Recovery:
    """The `on_error` handler of one parse (see the module docstring)."""

    def __init__(self, source: SourceFile, state: ParseState) -> None:
        self.source = source
        self.state = state
        self.reported_lines: set[int] = set()
        self.skipped_depth = 0
        self.events = 0
        self.gave_up = False

    def report(self, span: Span, message: str) -> None:
        line = self.source.line_of(span.start)
        if line not in self.reported_lines:
            self.reported_lines.add(line)
            self.state.errors.append((span, message))

    def __call__(self, error: UnexpectedInput) -> bool:
        if isinstance(error, UnexpectedCharacters):
            self.events += 1
            return self.skip_characters(error)
        if not isinstance(error, UnexpectedToken):
            return False
        parser = error.interactive_parser
        token = error.token
        if token.type != "$END" and self.name_lexed_as_keyword(parser, token):
            return True
        self.events += 1
        if self.events > MAX_ERROR_EVENTS and not self.gave_up:
            self.give_up(parser, token)
        if token.type == "$END":
            if not self.gave_up:
                end = len(self.source.text.rstrip())
                self.report(
                    Span(end, end),
                    f"unexpected end of file: expected {describe_expected(error.expected)}",
                )
            self.close_at_end(parser)
            return True
        start = token.start_pos or 0
        span = Span(start, token.end_pos or start)
        if not self.gave_up:
            self.report(
                span,
                f"expected {describe_expected(error.expected)}, found {_describe_token(token)}",
            )
        if self.is_sync(token) and self.resync(parser, token):
            return True
        if token.type in OPENERS:
            self.skipped_depth += 1
        return True

    def name_lexed_as_keyword(self, parser: InteractiveParser, token: Token) -> bool:
        """Keywords are contextual (`var model`, `model: model`): the lexer reads every
        keyword as one, and where the parser rejects it but a name fits, it is a name.
        Exception: a keyword opening a line and followed by what it introduces
        (`var x`, `program p {`) starts a new construct after an unfinished one."""
        text = str(token)
        if token.type == "NAME" or not _IDENTIFIER.fullmatch(text) or text in RESERVED:
            return False
        if opens_construct(self.source.text, token, self.state.before):
            return False
        name = Token(
            "NAME",
            text,
            start_pos=token.start_pos,
            end_pos=token.end_pos,
            line=token.line,
            column=token.column,
        )
        if not _feeds(_fork(parser), name):
            return False
        parser.feed_token(name)
        return True

    def skip_characters(self, error: UnexpectedCharacters) -> bool:
        lexer = error.interactive_parser.lexer_thread.state
        assert lexer is not None
        text = self.source.text
        pos = lexer.line_ctr.char_pos
        char = text[pos : pos + 1]
        if not self.gave_up:
            self.report(Span(pos, pos + 1), f"unexpected character {char!r}")
        match = _SKIP_RUN.match(text, pos + 1)
        end = match.end() if match else pos + 1
        lexer.line_ctr.feed(text[pos:end])
        return True

    def is_sync(self, token: Token) -> bool:
        if token.type == "RBRACE" or token.type in ("RPAR", "RSQB"):
            if self.skipped_depth > 0:
                self.skipped_depth -= 1
                return False
            return True
        if token.type in DECL_KEYWORDS or token.type in ITEM_KEYWORDS:
            start = token.start_pos or 0
            line_start = self.source.line_start(self.source.line_of(start))
            return not self.source.text[line_start:start].strip()
        return False

    def resync(self, parser: InteractiveParser, token: Token) -> bool:
        closers = (*CLOSERS, "RBRACE") if token.type != "RBRACE" else CLOSERS
        trial = _fork(parser)
        for _ in range(MAX_CLOSERS):
            if _feeds(trial, token):
                parser.parser_state = trial.parser_state
                self.skipped_depth = 0
                return True
            table = trial.parser_state.parse_conf.parse_table.states[trial.parser_state.position]
            closer = next(
                (c for c in closers if c in table and _feeds(_fork(trial), _synthetic(c, token))),
                None,
            )
            if closer is None:
                break
            trial.feed_token(_synthetic(closer, token))
        stack = parser.parser_state.state_stack
        states = parser.parser_state.parse_conf.parse_table.states
        for depth in range(1, min(len(stack), MAX_POPS)):
            if token.type not in states[stack[-depth - 1]]:
                continue  # cheap test first: forks copy the stack
            trial = _fork(parser)
            cut = _start_of(trial.parser_state.value_stack[-depth:])
            del trial.parser_state.state_stack[-depth:]
            del trial.parser_state.value_stack[-depth:]
            before = {id(v) for v in trial.parser_state.value_stack}
            if _feeds(trial, token):
                _drop_truncated_item(trial, cut, before)
                parser.parser_state = trial.parser_state
                self.skipped_depth = 0
                return True
        return False

    def close_at_end(self, parser: InteractiveParser) -> None:
        end = Token("$END", "", start_pos=len(self.source.text), end_pos=len(self.source.text))
        for _ in range(10_000):
            state = parser.parser_state
            table = state.parse_conf.parse_table.states[state.position]
            if "$END" in table and _accepts_end(parser):
                return
            closer = next(
                (
                    c
                    for c in (*CLOSERS, "RBRACE")
                    if c in table and _feeds(_fork(parser), _synthetic(c, end))
                ),
                None,
            )
            if closer is not None:
                parser.feed_token(_synthetic(closer, end))
            elif len(state.state_stack) > 1:
                state.state_stack.pop()
                state.value_stack.pop()
            else:
                return

    def give_up(self, parser: InteractiveParser, token: Token) -> None:
        """Too many errors: skip to the end of the file and say so once."""
        self.gave_up = True
        start = token.start_pos or 0
        self.state.errors.append(
            (Span(start, start), "too many syntax errors; the rest of the file was not parsed")
        )
        lexer = parser.lexer_thread.state
        if lexer is not None:
            lexer.line_ctr.feed(self.source.text[lexer.line_ctr.char_pos :])


def _start_of(values: list[Any]) -> int | None:
    """Where the earliest of some stack values starts in the source."""
    for value in values:
        if isinstance(value, Token):
            return value.start_pos
        if isinstance(value, ast.Node):
            return value.span.start
    return None


def _drop_truncated_item(parser: InteractiveParser, cut: int | None, before: set[int]) -> None:
    """After popping an unfinished construct (`constraint x ==`), feeding the next
    keyword may complete what was left (`constraint x`); that item is truncated, so drop
    it. `before` holds the ids of the stack values before the feed: only a new item counts."""
    stack = parser.parser_state.value_stack
    if cut is None or len(stack) < 2:
        return
    below = stack[-2]
    if (
        isinstance(below, tuple)
        and id(below) not in before
        and isinstance(below[1], ast.Node)
        and below[1].span.start < cut
    ):
        stack[-2] = below[0]


def _fork(parser: InteractiveParser) -> InteractiveParser:
    """A copy that can be fed without touching `parser`'s values.

    lark's left-recursion shortcut appends to the children list of the `x*`
    helper tree on the value stack, so those trees are copied one level deep;
    AST nodes are never mutated and are shared.
    """
    trial = cast(InteractiveParser, parser.copy(deepcopy_values=False))  # type: ignore[no-untyped-call]
    trial.parser_state.value_stack = [
        Tree(v.data, list(v.children)) if type(v) is Tree else v
        for v in trial.parser_state.value_stack
    ]
    return trial


def _error_span(error: UnexpectedInput) -> Span:
    start = getattr(error, "pos_in_stream", None) or 0
    token = getattr(error, "token", None)
    if isinstance(token, Token) and token.start_pos is not None:
        start = token.start_pos
    return Span(start, start)


def _salvage(values: list[Any]) -> list[ast.TopLevel]:
    """The complete declarations on a parser's value stack."""
    decls: list[ast.TopLevel] = []
    for value in values:
        items = flatten(value) if isinstance(value, tuple) else [value]
        decls.extend(cast(ast.TopLevel, i) for i in items if isinstance(i, ast.Decl | ast.Import))
    return decls


def _synthetic(kind: str, at: Token) -> Token:
    pos = at.start_pos or 0
    return Token(kind, "", start_pos=pos, end_pos=pos, line=at.line, column=at.column)


def _feeds(parser: InteractiveParser, token: Token) -> bool:
    """Does `parser` (a throwaway copy) accept `token`?"""
    try:
        parser.feed_token(token)
    except UnexpectedInput:
        return False
    return True


def _accepts_end(parser: InteractiveParser) -> bool:
    trial = _fork(parser)
    try:
        trial.feed_eof()  # type: ignore[no-untyped-call]
    except UnexpectedInput:
        return False
    return True


def parse(source: SourceFile) -> ParseResult:
    """Parse one file. Never raises for any text."""
    state = ParseState()
    token = STATE.set(state)
    try:
        recovery = _Recovery(source, state)
        try:
            parsed: Any = _parser().parse(source.text, on_error=recovery)
        except UnexpectedInput as exc:  # recovery gave up: keep what parsed
            state.errors.append((_error_span(exc), "cannot recover from this syntax error"))
            parser = getattr(exc, "interactive_parser", None)
            values = parser.parser_state.value_stack if parser is not None else []
            parsed = ast.Module(decls=_salvage(values), span=Span(0, len(source.text)))
    finally:
        STATE.reset(token)
    module = (
        parsed
        if isinstance(parsed, ast.Module)
        else ast.Module(decls=[], span=Span(0, len(source.text)))
    )
    module.comments = sorted(state.comments, key=lambda c: c.span.start)
    _attach_docs(source, module)
    diagnostics: list[Diagnostic] = []
    if source.decode_error:
        diagnostics.append(
            Diagnostic("E001", Severity.ERROR, source.decode_error, source.path, Span(0, 0))
        )
    for comment in module.comments:
        if comment.text.startswith("/*") and not comment.text.endswith("*/"):
            state.errors.append((comment.span, "unterminated block comment: expected '*/'"))
    seen: set[tuple[int, int, str]] = set()
    for span, message in sorted(state.errors, key=lambda e: (e[0].start, e[0].end)):
        if (span.start, span.end, message) not in seen:
            seen.add((span.start, span.end, message))
            diagnostics.append(Diagnostic("E001", Severity.ERROR, message, source.path, span))
    return ParseResult(source, module, diagnostics)


def _attach_docs(source: SourceFile, module: ast.Module) -> None:
    """Give each declaration, field, variable, step and enum value its `///` doc: the
    `///` lines right above the line it starts on, used once (a declaration and a member
    starting on the same line: the declaration)."""
    doc_lines: dict[int, str] = {}
    for comment in module.comments:
        if not comment.is_doc:
            continue
        line = source.line_of(comment.span.start)
        if source.line_text(line).strip() == comment.text.strip():
            text = comment.text[3:]
            # Trailing whitespace is invisible and fmt drops it: it is not part of the doc.
            doc_lines[line] = (text[1:] if text.startswith(" ") else text).rstrip()
    if not doc_lines:
        return
    for node in _documentable(module):
        line = source.line_of(node.span.start) - 1
        parts: list[str] = []
        while line in doc_lines:
            parts.append(doc_lines.pop(line))
            line -= 1
        if parts:
            node.doc = "\n".join(reversed(parts)).strip()


Documentable = ast.Decl | ast.Field | ast.EnumValue | ast.VarDecl | ast.StepDecl


def _documentable(module: ast.Module) -> list[Documentable]:
    """Declarations and the members that may carry a `///` doc (no expressions)."""
    found: list[Documentable] = []
    for decl in module.decls:
        if isinstance(decl, ast.Import):
            continue
        found.append(decl)
        if isinstance(decl, ast.EnumDecl):
            found.extend(decl.values)
        elif isinstance(decl, ast.ClassDecl | ast.SignatureDecl):
            found.extend(decl.fields)
        elif isinstance(decl, ast.ProgramDecl):
            found.extend(
                i for i in decl.items if isinstance(i, ast.Field | ast.VarDecl | ast.StepDecl)
            )
    return found
