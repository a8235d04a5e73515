"""The report's first screen: the verdict, then what a reader must see, grouped by cause.

Real findings come first: failing pairs, then the divergences the cases record, each grouped by
cause (one row per cause, with the adapters that show it, how many pairs, an example, and the
full text on demand). Adapters' declared limits (not applicable) follow in their own short list,
and case files or cases that did not run are named. Every cell is escaped.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

import pandas as pd

from ..adapters.registry import adapter_names
from ..judge.verdict import DIFFER, FAIL, NOT_APPLICABLE, RunNote, verdict_lines, verdicts


def anchor(case_id: str) -> str:
    return "case-" + re.sub(r"[^a-zA-Z0-9_.-]", "_", case_id)


def link(case_id: str) -> str:
    return f'<a href="#{anchor(case_id)}">{escape(case_id)}</a>'


def text(value: Any) -> str:
    return "" if value is None or value is pd.NA or (isinstance(value, float) and value != value) else str(value)


def first_sentence(value: str) -> str:
    return re.split(r"(?<=\.)\s(?=[A-Z])", " ".join(value.split()), maxsplit=1)[0]


def readable(*texts: str) -> str:
    """The first sentence of the first text, with every text in full on demand (never cut)."""
    texts = tuple(dict.fromkeys(" ".join(t.split()) for t in texts if t.strip())) or ("",)
    short = first_sentence(texts[0])
    if len(texts) == 1 and short == texts[0]:
        return escape(short)
    return (f"<details class=more><summary>{escape(short)}</summary>"
            + "".join(f"<p>{escape(t)}</p>" for t in texts) + "</details>")


def _adapters(names: pd.Series) -> str:
    order = {name: i for i, name in enumerate(adapter_names())}
    return ", ".join(sorted(set(names), key=lambda n: (order.get(n, len(order)), n)))


def _why(r: Any) -> str:
    """A pair's cause in words: what differs (and the diagnosis), or the error it raised."""
    if text(r.mismatch_on):
        return f"{r.status} on {r.mismatch_on}" + (f" (diagnosis: {r.diagnosis})" if text(r.diagnosis) else "")
    if text(r.error_message) or text(r.error_type):
        return f"{r.status}: {text(r.error_type) or 'error'}: {text(r.error_message)}"
    if r.status == "match":
        return "now matches: update the case (the framework changed)"
    return str(r.status)


def _cause(r: Any) -> str:
    """One cause: the same error (type and message, numbers aside) whatever the case or adapter says of
    it, else the same kind of mismatch with the same first sentence of its reason."""
    if r.status == "error" and text(r.error_message):
        return f"error|{text(r.error_type)}|{re.sub(r'[0-9]+', '#', ' '.join(text(r.error_message).split()))}"
    return f"{r.status}|{text(r.mismatch_on)}|{first_sentence(text(r.reason)) or _why(r)}"


def _grouped(df: pd.DataFrame, cause: pd.Series) -> list[dict[str, Any]]:
    """One entry per cause: adapters, passes, pairs, cases, up to three example cases, the full texts."""
    groups = []
    for key, part in df.assign(_cause=cause.values).groupby("_cause", sort=False):
        examples = list(dict.fromkeys(part["case_id"]))
        groups.append({"cause": str(key), "adapters": _adapters(part["adapter"]),
                       "passes": "/".join(sorted(set(part["pass"].fillna("forward")), reverse=True)),
                       "pairs": len(part), "cases": len(examples), "examples": examples[:3], "first": part.iloc[0]})
    return sorted(groups, key=lambda g: -int(g["pairs"]))


def table(head: tuple[str, ...], rows: list[str], css: str) -> str:
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f'<table class="{css}"><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _examples(group: dict[str, Any]) -> str:
    more = f" +{group['cases'] - len(group['examples'])}" if group["cases"] > len(group["examples"]) else ""
    return ", ".join(link(c) for c in group["examples"]) + more


def verdict_section(df: pd.DataFrame, note: RunNote | None) -> str:
    lines = verdict_lines(df, note)
    failing = int((verdicts(df) == FAIL).sum())
    state = "fail" if failing or (note and (note.interrupted or note.dropped)) else "pass"
    warnings = "".join(f'<p class="headline fail"><b>{escape(line)}</b></p>' for line in lines[:-2])
    return (f'{warnings}<p class="headline {state}" id="verdict"><b>{escape(lines[-2])}</b></p>'
            f"<p class=note>{escape(lines[-1])}. A pair fails when it differs from what its case expects "
            "(<code>match</code>, <code>error</code> for a configuration with no output, or what its "
            "<code>expect:</code> records); an adapter's declared limitation is not applicable.</p>")


def dropped_section(note: RunNote | None) -> str:
    if not note or not note.dropped:
        return ""
    items = "".join(f"<li><code>{escape(problem)}</code></li>" for problem in note.dropped)
    return (f'<h2 id="dropped">Not run: problems in the case files ({len(note.dropped)})</h2>'
            f"<ul class=dropped>{items}</ul>")


def failing_section(df: pd.DataFrame) -> str:
    failing = df[verdicts(df) == FAIL]
    if failing.empty:
        return '<h2 id="failing">Failing pairs</h2><p class="pass">None: every pair behaves as expected or recorded.</p>'
    cause = pd.Series([f"{r.pass_}|{_why(r)}|expected {r.expected}"
                       for r in failing.rename(columns={"pass": "pass_"}).itertuples()], index=failing.index)
    rows = []
    for g in _grouped(failing, cause):
        r = g["first"]
        rows.append(f"<td>{escape(g['adapters'])}</td><td>{escape(g['passes'])}</td>"
                    f'<td><span class="st {escape(str(r.status))} bad">{escape(str(r.status))}</span></td>'
                    f"<td>{escape(text(r.expected))}</td><td class=msg>{readable(_why(r))}</td>"
                    f"<td class=num>{g['pairs']}</td><td>{_examples(g)}</td>")
    return (f'<h2 id="failing">Failing pairs ({len(failing)}, {len(rows)} causes)</h2>'
            + table(("adapters", "pass", "status", "expected", "what happened", "pairs", "cases"),
                     [f"<tr>{r}</tr>" for r in rows], "failing"))


def differences_section(df: pd.DataFrame) -> str:
    recorded = df[verdicts(df) == DIFFER]
    failing = int((verdicts(df) == FAIL).sum())
    if recorded.empty:
        tail = (f" {failing} pair(s) fail: see above." if failing else
                " Every other pair matched the reference or refused an invalid configuration.")
        return f'<h2 id="differences">How the frameworks differ</h2><p>No case records a divergence.{tail}</p>'
    cause = pd.Series([_cause(r) for r in recorded.itertuples()], index=recorded.index)
    rows = []
    for g in _grouped(recorded, cause):
        r = g["first"]
        reasons = [text(x) for x in recorded.loc[cause == g["cause"], "reason"] if text(x)] or [_why(r)]
        rows.append(f"<tr><td>{escape(g['adapters'])}</td>"
                    f'<td><span class="st {escape(str(r.status))}">{escape(str(r.status))}</span></td>'
                    f"<td>{readable(*reasons)}</td><td class=num>{g['pairs']}</td><td>{_examples(g)}</td></tr>")
    return ('<h2 id="differences">How the frameworks differ</h2><p class=note>The divergences the cases record '
            "(<code>expect:</code> with a <code>reason:</code>), one row per cause.</p>"
            + table(("adapters", "status", "what happens", "pairs", "cases"), rows, "differences"))


def limits_section(df: pd.DataFrame) -> str:
    limits = df[verdicts(df) == NOT_APPLICABLE]
    if limits.empty:
        return ""
    cause = pd.Series([f"{r.adapter}|{first_sentence(text(r.error_message) or text(r.reason))}"
                       for r in limits.itertuples()], index=limits.index)
    rows = [f"<tr><td>{escape(g['adapters'])}</td><td>{readable(g['cause'].split('|', 1)[1])}</td>"
            f"<td class=num>{g['pairs']}</td><td>{_examples(g)}</td></tr>" for g in _grouped(limits, cause)]
    return (f'<h2 id="limits">Not applicable: adapter limits ({len(limits)} pairs)</h2><p class=note>What an adapter '
            "declares its framework cannot express (nothing was called); not a failure.</p>"
            + table(("adapter", "limit", "pairs", "cases"), rows, "limits"))
