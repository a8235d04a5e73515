"""The program an adapter writes is the code that runs: executed once per text, in pieces that compile once."""

from __future__ import annotations

from helpers import make_case

from harness.adapters import program
from harness.adapters.registry import get_adapter

TWO_BLANK_LINES_INSIDE = '''import numpy as np


def run(x, w, b):
    y = x


    return y


def numpy(y):
    return y


def parameter_count(x, w, b):
    return 0
'''


def test_pieces_run_as_the_whole_text_and_a_function_with_blank_lines_falls_back_to_it() -> None:
    ran = program.compiled(TWO_BLANK_LINES_INSIDE)
    assert ran.namespace["run"](1, None, None) == 1 and ran.last == [1]
    pieces = program._chunks(TWO_BLANK_LINES_INSIDE)
    assert len(pieces) == 1  # compiled whole: its pieces would not be Python on their own


def test_what_two_cases_share_compiles_once() -> None:
    adapter = get_adapter("scipy")
    first, second = (make_case(in_channels=c, out_channels=c + 1) for c in (2, 3))
    program._chunks(adapter.program(first, adapter.plan(first)))
    before = program._code.cache_info()
    text = adapter.program(second, adapter.plan(second))
    program._chunks(text)
    after = program._code.cache_info()
    pieces = text.count("\n\n\n") + 1
    assert after.hits - before.hits >= 2 and after.misses - before.misses < pieces  # helpers reused, the loop is new
