"""Property: whatever YAML a user writes, the loader returns cases or Problems, never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cases.loading import Case, load_file
from harness.model.schema import CONV_FIELDS, KERAS_ALIASES
from harness.problems import Problem

scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 40), st.floats(allow_nan=False, width=32),
                    st.sampled_from(["same", "valid", "same_lower", "zeros", "reflect", "float16", "ones",
                                     "torch", "error", "x", ""]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["input", "weights", "status", "reason", "when", "torch", "rtol", "stride"]), inner, max_size=3),
    max_leaves=8)
keys = st.sampled_from([*CONV_FIELDS, *KERAS_ALIASES, "expect", "matrix", "exclude", "bogus", "kernal_size"])
case_maps = st.dictionaries(keys, values, max_size=10).map(lambda d: {"id": "c", **d} if "id" not in d else d)
documents = st.one_of(
    st.fixed_dictionaries({"cases": st.lists(case_maps, max_size=3)},
                          optional={"defaults": st.dictionaries(keys, values, max_size=4)}),
    values,
)
TMP = Path(tempfile.mkdtemp(prefix="harness-fuzz-"))


def check(text: str) -> None:
    path = TMP / "fuzz.yaml"
    path.write_text(text)
    cases, problems = load_file(path)
    assert all(isinstance(c, Case) for c in cases)
    assert all(isinstance(p, Problem) and p.line >= 1 for p in problems)
    assert not (cases and problems)  # a file with problems contributes no case


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_documents(doc: object) -> None:
    check(yaml.safe_dump(doc, default_flow_style=False))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="cases:-[]{}!&*?|>'\"#%@` \n\tid0123", max_size=80))
def test_random_text(text: str) -> None:
    check(text)
