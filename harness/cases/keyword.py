"""`-k EXPRESSION`: pytest's keyword syntax over case ids.

A word keeps the cases whose id contains it (case-insensitive, as in pytest); words combine
with `and`, `or`, `not` and parentheses: `-k "same and not stride=2"`, `-k "batch-0 or kernel-0"`.
A tiny recursive-descent parser: expr := term ("or" term)*; term := factor ("and" factor)*;
factor := "not" factor | "(" expr ")" | word.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..problems import BadInput

Test = Callable[[str], bool]
_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _TOKEN.findall(text)
        self.at = 0

    def fail(self, why: str) -> BadInput:
        return BadInput(f"-k {self.text!r}: {why} (write words joined by and, or, not and parentheses, "
                        "e.g. -k \"same and not stride=2\")")

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise self.fail("the expression ends too early")
        self.at += 1
        return token

    def expr(self) -> Test:
        parts = [self.term()]
        while self.peek() == "or":
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else (lambda s: any(p(s) for p in parts))

    def term(self) -> Test:
        parts = [self.factor()]
        while self.peek() == "and":
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else (lambda s: all(p(s) for p in parts))

    def factor(self) -> Test:
        token = self.take()
        if token == "not":
            inner = self.factor()
            return lambda s: not inner(s)
        if token == "(":
            inner = self.expr()
            if self.take() != ")":
                raise self.fail("a '(' is not closed")
            return inner
        if token in (")", "and", "or"):
            raise self.fail(f"unexpected {token!r}")
        word = token.lower()
        return lambda s: word in s.lower()


def keyword_test(text: str) -> Test:
    """The predicate of an expression, or BadInput saying what is wrong with it."""
    parser = _Parser(text)
    if not parser.tokens:
        raise parser.fail("the expression is empty")
    test = parser.expr()
    if parser.peek() is not None:
        raise parser.fail(f"unexpected {parser.peek()!r}")
    return test
