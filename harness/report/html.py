"""report.html: one self-contained page that answers at a glance (docs/reports.md).

The first screen says how many pairs fail and how the frameworks differ (the recorded
divergences grouped by framework and reason, linking to their cases), then the failing pairs.
The environment is collapsed. Every case follows as a collapsed, filterable entry whose
details (adapters side by side, pads and crops drawn to scale, heat maps) the page's own
script draws from one compact JSON block: strings are stored once and referred to by index,
so the page grows by about 150 bytes per (case, adapter) pair instead of kilobytes of markup.
"""

from __future__ import annotations

import json
from html import escape
from importlib import resources
from typing import Any

import pandas as pd

from ..judge.verdict import RunNote
from ..results.environment import LOG_KEY
from ..results.rows import COLUMNS, STRING_COLUMNS
from .firstscreen import differences_section, dropped_section, failing_section, limits_section, verdict_section
from .initialisers import init_section

# what the page's script shows: a case's own fields once per case, then each pair's, the ones most
# rows have first (a row's trailing empty fields are left out)
CASE_FIELDS = ("case_id", "file", "line", "op", "rank", "ref_shape", "expected_param_count", "ref_pad_top",
               "ref_pad_bottom", "ref_pad_left", "ref_pad_right", "ref_pad_front", "ref_pad_back", "case", "doc")
SHOWN_LAST = ("error_type", "error_message", "expected_error", "reason", "mismatch_on", "diagnosis",
              "diagnosis_detail", "strict_err_bound_ratio",
              "worst_index", "worst_value", "worst_reference", "worst_bound", "diff_map")
ROW_FIELDS = tuple(c for c in COLUMNS if c not in (*CASE_FIELDS, *SHOWN_LAST, "seconds", "max_rel_err", "max_abs_err",
                                                    "dtype", "pad_asymmetric")) + SHOWN_LAST


def _asset(name: str) -> str:
    return resources.files("harness").joinpath("assets", name).read_text(encoding="utf-8")


def _plain(value: Any) -> Any:
    """A JSON value: numbers rounded to what a reader needs, missing values as null."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return float(f"{value:.4g}")
    return value


def data_block(df: pd.DataFrame) -> str:
    """{case_fields, row_fields, strings, cases, rows}: strings stored once and referred to by index,
    each case's own fields once, each row as [case index, its fields...] without trailing empties."""
    strings: dict[str, int] = {}

    def encoded(fields: tuple[str, ...], values: tuple[Any, ...]) -> list[Any]:
        out = [strings.setdefault(str(v), len(strings)) if f in STRING_COLUMNS and v is not None else v
               for f, v in zip(fields, map(_plain, values))]
        while out and out[-1] is None:
            out.pop()
        return out

    failing = df.assign(_fail=~df["passed"].fillna(True).astype(bool)).groupby("case_id", sort=False)["_fail"]
    df = df.iloc[(~failing.transform("any")).argsort(kind="stable")]  # cases with a failing pair first
    table = df.astype(object)
    index: dict[str, int] = {}
    cases: list[list[Any]] = []
    for values in table[list(CASE_FIELDS)].drop_duplicates("case_id").itertuples(index=False):
        index[values[0]] = len(cases)
        cases.append(encoded(CASE_FIELDS, tuple(values)))
    rows = [[index[case_id], *encoded(ROW_FIELDS, tuple(values))]
            for case_id, *values in table[["case_id", *ROW_FIELDS]].itertuples(index=False)]
    payload = {"case_fields": CASE_FIELDS, "row_fields": ROW_FIELDS,
               "strings_in": [f for f in (*CASE_FIELDS, *ROW_FIELDS) if f in STRING_COLUMNS],
               "strings": list(strings), "cases": cases, "rows": rows}
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    # safe inside a <script> element: no `</script`, `<!--` or `<script` can appear (JSON reads \u003c as <)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def counts_table(df: pd.DataFrame) -> str:
    counts = pd.crosstab(df["status"], df["adapter"], margins=True, margins_name="all")
    known = [a for a in dict.fromkeys(df["adapter"]) if a in counts.columns] + ["all"]
    counts = counts[known]
    head = "".join(f"<th>{escape(str(c))}</th>" for c in counts.columns)
    body = "".join(f'<tr><th><span class="st {escape(str(i))}">{escape(str(i))}</span></th>'
                   + "".join(f"<td>{v}</td>" for v in r) + "</tr>" for i, r in counts.iterrows())
    return f'<table class="counts"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>'


def environment_block(df: pd.DataFrame, env: dict[str, str]) -> str:
    values = {k: v for k, v in env.items() if k != LOG_KEY}
    for version in sorted({v for v in df["framework_version"].dropna().unique() if isinstance(v, str)}):
        values.setdefault(version.split()[0], version)
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in values.items())
    log = env.get(LOG_KEY, "")
    log_block = (f'<details id="log"><summary>Framework log ({len(log.splitlines())} distinct lines, kept off the '
                 f"terminal; <code>run -v</code> shows them)</summary><pre>{escape(log)}</pre></details>") if log else ""
    return (f'<details id="environment"><summary>Environment ({escape(values.get("date", ""))} '
            f'{escape(values.get("device", ""))})</summary><table class="env">{body}</table></details>{log_block}')


def render_html(df: pd.DataFrame, env: dict[str, str], note: RunNote | None = None) -> str:
    parts = ["<!doctype html><html lang=en><head><meta charset=utf-8>"
             "<meta name=viewport content='width=device-width'><title>Convolution comparison report</title>"
             f"<style>{_asset('report.css')}</style></head><body><h1>Convolution comparison report</h1>"]
    if df.empty:
        parts.append('<p class="headline fail">No cases ran: the case files or the selection (<code>-k</code>, '
                     "<code>-a</code>) gave no (case, adapter) pair.</p>")
        parts += [dropped_section(note), environment_block(df, env)]
    else:
        parts += [verdict_section(df, note), dropped_section(note), failing_section(df), differences_section(df),
                  limits_section(df), init_section(df),
                  f'<h2 id="statuses">Statuses per adapter</h2>{counts_table(df)}', environment_block(df, env),
                  '<h2 id="cases">Cases</h2><div id="filters"></div><div id="case-list"></div>',
                  f'<script type="application/json" id="data">{data_block(df)}</script>',
                  f"<script>{_asset('report.js')}</script>"]
    parts.append("</body></html>")
    return "".join(parts)
