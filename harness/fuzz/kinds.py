"""What counts as a find, how bad it is, and how it is written down.

A kind is what a person would file one report for: the adapter, the pass, the status, what
mismatched, the error type, the diagnosis, and the gist of the message (digits dropped, so
`got 3` and `got 4` are one kind). An adapter-declared `unsupported` is never a find, nor is a
kind the case library already records (the same key, message gist included), nor one it covers: the
same key with fewer things mismatched (a bias-less case cannot mismatch `db`: `dx;dw` is the report
already filed as `dx;dw;db`), or a wrong shape nothing could diagnose where that adapter's wrong
shape is filed.

Severity ranks finds as users suffer them: 0 wrong values on non-empty tensors that no precision
explains, 1 wrong values a lower precision explains, 2 a wrong shape, 3 a refusal of a valid
configuration (an error, a crash, a hang), 4 anything else (empty tensors, invalid configurations).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from ..results.rows import Row

Kind = tuple[str, str, str, str, str, str, str]  # adapter, pass, status, mismatch_on, error type, diagnosis, gist
SEVERITIES = ("wrong values", "wrong values a lower precision explains", "a wrong shape",
              "a refusal of a valid configuration", "other")
PRECISION_DIAGNOSES = ("precision", "FFT rounding")
GIST = 80


def informative(message: str | None) -> str:
    """The first telling line of an error message, past ONNX Runtime's and Keras' generic prefixes."""
    text = (message or "").split("Status Message:")[-1]
    text = re.sub(r"^\s*\[ONNXRuntimeError\][^:]*:[^:]*:[^:]*:\s*", "", text)
    text = re.sub(r"\{\{function_node [^}]*\}\}", "", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()
             and not line.strip().startswith(("Exception encountered when calling", "Arguments received"))]
    return lines[0] if lines else ""


def cut(text: str, limit: int = GIST) -> str:
    """At most `limit` characters, ending at a word boundary."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    return head[:head.rfind(" ")] if " " in head else head


NAMED = re.compile(r"(?i)(\bname\s*[:=]?\s*)'[^']*'")  # ONNX Runtime's "node with name 'node_Conv_9'"


def gist(message: str | None) -> str:
    """What makes two messages one kind: the informative part, digits and the names of graph nodes dropped, whole
    words (a node's name is the exporter's, not the rule's)."""
    return cut(re.sub(r"\d+", "#", NAMED.sub(r"\1'…'", informative(message))))


# a decimal number as re.escape writes it (0\.925, \-1\.5e\-07): a data value, not part of the message's rule
ESCAPED_DECIMAL = re.compile(r"(?:\\-)?\d+\\\.\d+(?:e(?:\\-|\\\+)?\d+)?")


def pinned(message: str | None) -> str | None:
    """A message fragment to pin (`expect: message:`, a regex): the informative part, whole words; the values
    of the data it quotes (decimals) match any number, so the pin holds for the rule, not for one draw."""
    text = cut(informative(message), 60)
    if not text:
        return None
    escaped = re.escape(text).replace("\\ ", " ")  # spaces need no escape: readable
    return ESCAPED_DECIMAL.sub(lambda _: r"[-+.0-9e]+", escaped)


EMPTY_OUTPUT = "empty output"  # a wrong shape with no element to diagnose: its diagnosis in the kind


def kind_of(row: Row) -> Kind:
    emptied = row.status == "mismatch" and "shape" in (row.mismatch_on or "") and non_empty(row) and \
        0 in dims(row.out_shape)
    return (row.adapter, row.pass_, row.status, row.mismatch_on or "", row.error_type or "",
            EMPTY_OUTPUT if emptied else row.diagnosis or "", gist(row.error_message) if row.status == "error" else "")


def covering(kind: Kind, known: Iterable[Kind]) -> Kind | None:
    """The known kind that is this one or the same with more mismatched (its mismatch_on a superset), if any. A
    wrong shape nothing could diagnose (an empty output has no crops to measure) is the wrong shape already
    filed for that adapter and pass, whatever its diagnosis said."""
    mismatched = set(filter(None, kind[3].split(";")))
    undiagnosed_shape = kind[5] == EMPTY_OUTPUT
    for other in known:
        same_cause = other[5] == kind[5] or (undiagnosed_shape and "shape" in other[3].split(";"))
        if other == kind or (other[:3] == kind[:3] and other[4] == kind[4] and other[6] == kind[6] and same_cause
                             and mismatched and mismatched <= set(other[3].split(";"))):
            return other
    return None


def covered(kind: Kind, known: Iterable[Kind]) -> bool:
    return covering(kind, known) is not None


def dims(shape: str | None) -> list[int]:
    """A row's shape text (`1x3x0`) as its sizes."""
    return [int(v) for v in re.findall(r"\d+", shape or "")]


def non_empty(row: Row) -> bool:
    shape = dims(row.ref_shape)
    return bool(shape) and math.prod(shape) > 0


def severity(row: Row) -> int:
    values = "values" in (row.mismatch_on or "") or bool({"dx", "dw", "dpw", "db"} & set((row.mismatch_on or "").split(";")))
    if row.status == "mismatch" and values and non_empty(row):
        return 1 if row.diagnosis in PRECISION_DIAGNOSES else 0
    if row.status == "mismatch" and "shape" in (row.mismatch_on or "") and non_empty(row):
        return 2
    if row.status == "error" and row.expected == "match" and non_empty(row):
        return 3
    return 4


def reportable(row: Row) -> bool:
    """A pair a person would file: not as expected, and not a limit the adapter declares."""
    return not row.passed and row.status != "unsupported"


def describe(row: Row) -> str:
    """One line in words: what the pair did, for a found case's `doc:` and the summary."""
    if row.status == "mismatch" and "shape" in (row.mismatch_on or ""):
        return f"{row.adapter} ({row.pass_}) returns shape {row.out_shape}, the reference {row.ref_shape}"
    if row.status == "mismatch":
        what = f"{row.adapter} ({row.pass_}) computes {row.mismatch_on or 'something'} out of bound"
        if row.err_bound_ratio is not None and math.isfinite(row.err_bound_ratio):
            what += f" ({row.err_bound_ratio:.3g} times the bound)"
        if row.diagnosis:
            what += f"; diagnosis {row.diagnosis}" + (f": {row.diagnosis_detail}" if row.diagnosis_detail else "")
        return what
    if row.status == "error":
        return f"{row.adapter} ({row.pass_}) raises {row.error_type}: {cut(row.error_message or '', 120)}"
    return f"{row.adapter} ({row.pass_}) is {row.status}, expected {row.expected}"


def recorded_reasons(results: Path) -> dict[Kind, str]:
    """The kinds of divergence a run of the case library recorded (its results.csv, when there is one),
    each with the library's most common reason for it: known to `model`'s report."""
    return {kind: reason for kind, (reason, _) in recorded(results).items()}


def recorded(results: Path) -> dict[Kind, tuple[str, str]]:
    """The kinds of divergence a run of the case library recorded (its results.csv, when there is one): never
    new to the fuzzer, named where the fuzzer meets one (recorded_in)."""
    from ..results.csv_codec import read_csvs

    if not results.is_file():
        return {}
    df = read_csvs([results])
    df = df[(df["status"] != "match") & df["reason"].notna()].astype(object)  # only these become rows
    return recorded_in(Row.from_record(record) for record in df.where(df.notna(), None).to_dict("records"))


def recorded_in(rows: Iterable[Row]) -> dict[Kind, tuple[str, str]]:
    """The kinds of divergence these rows of the case library record (a reason, not a match), each with its most
    common reason and the first case that records it ("file: id")."""
    reasons: dict[Kind, Counter[str]] = {}
    cases: dict[Kind, str] = {}
    for row in rows:
        if row.reason and row.status != "match":
            kind = kind_of(row)
            reasons.setdefault(kind, Counter())[row.reason] += 1
            cases.setdefault(kind, f"{row.file}: {row.case_id}")
    return {kind: (counted.most_common(1)[0][0], cases[kind]) for kind, counted in reasons.items()}
