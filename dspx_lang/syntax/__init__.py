"""Syntax: text -> AST. lark never leaves this package."""

from dspx_lang.syntax.parser import ParseResult, parse

__all__ = ["ParseResult", "parse"]
