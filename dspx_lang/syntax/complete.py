"""What the grammar accepts at a position: the parser side of keyword completion.

Contract: `expected_at(text, offset)` never raises. It parses the text of the
top-level declaration around `offset`, up to `offset`, with the same LALR
tables as `parse`, reading a keyword the parser rejects as a name where a name
fits (keywords are contextual, as in `parse`) and skipping other tokens the
parser rejects, and reports:
  * the terminals the parser would accept next (keywords also as their text);
  * the identifier (or string) being typed at the cursor, which is not fed;
  * the trail: the tokens and finished nodes of the constructs still open at
    the cursor, outermost first, so a caller can tell `step s = |` from
    `model: |` without knowing the parser.
No lark object leaves this module: the trail holds plain strings and offsets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput
from lark.parsers.lalr_interactive_parser import InteractiveParser

from dspx_lang.syntax import ast
from dspx_lang.syntax.parser import _fork, _parser
from dspx_lang.syntax.transform import STATE, ParseState, flatten

__all__ = ["Expected", "TrailItem", "decl_start", "expected_at"]

# A top-level declaration keyword at the start of a line: where re-parsing may begin.
_DECL_LINE = re.compile(
    r"^(?:import|model|enum|class|signature|tool|dataset|program|test)(?![A-Za-z0-9_])", re.M
)
# Regex terminals that are spelled like keywords.
_KEYWORD_REGEXES = {"STEP_SIZE": "step", "RANGE_IN": "in", "MEMBER_IN": "in"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_TOKENS = 20_000  # a declaration longer than this is not worth completing inside


@dataclass(frozen=True, slots=True)
class TrailItem:
    """One entry of the parser's stack: a token (`kind` is its terminal) or a finished node.

    For a node, `kind` is "node" and `node` names its AST class ("NameRef", "Setting", ...).
    """

    kind: str
    text: str
    start: int
    end: int
    node: str = ""


@dataclass(frozen=True, slots=True)
class Expected:
    keywords: frozenset[str]  # keyword texts the parser accepts at the cursor
    terminals: frozenset[str]  # every accepted terminal name (NAME, STRING, LBRACE, ...)
    trail: tuple[TrailItem, ...]
    prefix: str  # the identifier typed so far at the cursor ("" when none)
    prefix_start: int
    in_string: bool  # the cursor is inside (or right after the opening of) a string literal
    in_comment: bool

    @property
    def accepts_name(self) -> bool:
        return "NAME" in self.terminals


def decl_start(text: str, offset: int) -> int:
    """The offset of the last line at or before `offset` that opens a top-level declaration."""
    start = 0
    for match in _DECL_LINE.finditer(text, 0, offset):
        start = match.start()
    return start


def expected_at(text: str, offset: int, start: int | None = None) -> Expected:
    """What may come at `offset`; parsing starts at `start` (default: `decl_start`)."""
    offset = max(0, min(offset, len(text)))
    begin = decl_start(text, offset) if start is None else max(0, min(start, offset))
    state = ParseState()
    token = STATE.set(state)
    try:
        return _Scan(text, begin, offset, state).run()
    finally:
        STATE.reset(token)


class _Scan:
    def __init__(self, text: str, begin: int, offset: int, state: ParseState) -> None:
        self.text = text
        self.begin = begin
        self.offset = offset
        self.state = state
        self.snippet = text[begin:offset]

    def run(self) -> Expected:
        parser: InteractiveParser = _parser().parse_interactive(self.snippet)
        prefix: Token | None = None
        for count, tok in enumerate(self.tokens(parser)):
            if count > _MAX_TOKENS:
                break
            if (tok.end_pos or 0) >= len(self.snippet) and _is_open_at_cursor(tok):
                prefix = tok
                break
            trial = _feed(parser, tok)
            if trial is None and tok.type != "NAME" and _IDENTIFIER.fullmatch(str(tok)):
                # Keywords are contextual: one the parser rejects where a name fits is a name.
                trial = _feed(parser, Token.new_borrow_pos("NAME", str(tok), tok))
            if trial is None:
                continue  # tolerate what the parser rejects, like the error recovery does
            # The lexer thread holds this very state object: update it in place.
            parser.parser_state.state_stack = trial.parser_state.state_stack
            parser.parser_state.value_stack = trial.parser_state.value_stack
        terminals = frozenset(_accepts(parser))
        names = _keyword_names()
        keywords = frozenset(names[t] for t in terminals if t in names)
        in_comment = any(
            c.span.start < len(self.snippet) <= c.span.end
            and (c.text.startswith("//") or not c.text.endswith("*/"))
            for c in self.state.comments
        )
        in_string = prefix is not None and prefix.type in ("STRING", "BLOCK_STRING")
        prefix_text = "" if prefix is None or in_string else str(prefix)
        prefix_start = self.offset if prefix is None else self.begin + (prefix.start_pos or 0)
        return Expected(
            keywords=keywords,
            terminals=terminals,
            trail=tuple(self.trail(parser.parser_state.value_stack)),
            prefix=prefix_text,
            prefix_start=prefix_start,
            in_string=in_string,
            in_comment=in_comment,
        )

    def tokens(self, parser: InteractiveParser) -> Iterator[Token]:
        """Lex the snippet in the parser's current context, stepping over bad characters."""
        thread = parser.lexer_thread
        while True:
            try:
                yield from thread.lex(parser.parser_state)  # type: ignore[no-untyped-call]
                return
            except UnexpectedCharacters:
                lexer = thread.state
                if lexer is None:
                    return
                pos = lexer.line_ctr.char_pos
                if pos >= len(self.snippet):
                    return
                lexer.line_ctr.feed(self.snippet[pos : pos + 1])

    def trail(self, values: list[Any]) -> Iterator[TrailItem]:
        for value in values:
            if isinstance(value, Token):
                if value.type in ("$END",) or value.start_pos is None:
                    continue
                yield TrailItem(
                    value.type,
                    str(value),
                    self.begin + value.start_pos,
                    self.begin + (value.end_pos or value.start_pos),
                )
            elif isinstance(value, ast.Node):
                start = self.begin + value.span.start
                end = self.begin + value.span.end
                yield TrailItem("node", self.text[start:end], start, end, type(value).__name__)
            elif isinstance(value, Tree):
                yield from self.trail(list(value.children))
            elif isinstance(value, tuple):  # a list being built, as (rest, last item) pairs
                yield from self.trail(flatten(value))
            elif isinstance(value, list):
                yield from self.trail(value)


def _is_open_at_cursor(tok: Token) -> bool:
    """A token ending at the cursor that the user may still be typing."""
    text = str(tok)
    if tok.type in ("STRING", "BLOCK_STRING"):
        closed = (
            len(text) >= 6 and text.endswith('"""')
            if text.startswith('"""')
            else (len(text) >= 2 and text.endswith('"') and not text.endswith('\\"'))
        )
        return not closed
    return bool(text) and (text[-1].isalnum() or text[-1] == "_") and not text[0].isdigit()


def _feed(parser: InteractiveParser, tok: Token) -> InteractiveParser | None:
    """A copy of `parser` that took `tok`, or None if it rejects it."""
    trial = _fork(parser)
    try:
        trial.feed_token(tok)
    except UnexpectedInput:
        return None
    return trial


def _accepts(parser: InteractiveParser) -> set[str]:
    try:
        return set(parser.accepts())  # type: ignore[no-untyped-call]
    except UnexpectedInput:
        return set()


_KEYWORDS: dict[str, str] = {}


def _keyword_names() -> dict[str, str]:
    """Terminal name -> keyword text, for terminals spelled like identifiers."""
    if not _KEYWORDS:
        for terminal in _parser().terminals:
            value = terminal.pattern.value
            if terminal.pattern.type == "str" and value.isidentifier():
                _KEYWORDS[terminal.name] = value
        _KEYWORDS.update(_KEYWORD_REGEXES)
    return _KEYWORDS
