"""report.html: one self-contained page (inline CSS, SVG and a few lines of inline script).

Order of the page: environment, a summary grid of cases x adapters coloured by status,
the failing pairs, a table of every pair that filters and sorts in the browser, then
every case with its adapters side by side, a picture of the pads and, for value
mismatches, a heat map of where the values differ. Tables come from pandas (Styler).
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

import pandas as pd

from . import svg
from .adapters.registry import adapter_names
from .rows import pads_of as _pads

STATUS_COLOURS = {"match": "#d5f5e3", "mismatch": "#fadbd8", "error": "#fcf3cf", "unsupported": "#e8daef",
                  "skipped": "#eaeded"}
CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}h3{margin:1.6em 0 .3em}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top;max-width:36em;overflow-wrap:break-word}thead th{white-space:nowrap}
th{background:#f4f6f7}.pass{color:#1e8449}.fail{color:#c0392b;font-weight:bold}
.case{border-left:4px solid #aaa;padding-left:.8em;margin:1.2em 0}.case.failing{border-color:#c0392b}
.meta{color:#555;font-family:ui-monospace,monospace;font-size:12px}.pictures svg{margin-right:.6em}
svg .lbl{font:12px system-ui,sans-serif}svg .num{font:11px ui-monospace,monospace}svg .dim{font:10px system-ui;fill:#555}
.empty{padding:1em;background:#fdf2e9;border:1px solid #e59866}.filters select{margin-right:1em}
table.pairs th{cursor:pointer}table.grid th,table.pairs td:first-child{white-space:nowrap;max-width:none}.msg{max-width:40em;font-family:ui-monospace,monospace;font-size:12px}
"""
SCRIPT = """
(function(){
  const table=document.getElementById('pairs'); if(!table) return;
  const rows=Array.from(table.tBodies[0].rows);
  function apply(){
    const st=document.getElementById('f-status').value, ad=document.getElementById('f-adapter').value;
    rows.forEach(r=>{const ok=(!st||r.dataset.status===st)&&(!ad||r.dataset.adapter===ad); r.style.display=ok?'':'none';});
  }
  document.getElementById('f-status').addEventListener('change',apply);
  document.getElementById('f-adapter').addEventListener('change',apply);
  Array.from(table.tHead.rows[0].cells).forEach((th,i)=>th.addEventListener('click',()=>{
    const dir=th.dataset.dir==='asc'?-1:1; th.dataset.dir=dir===1?'asc':'desc';
    const key=r=>{const t=r.cells[i].textContent; const n=parseFloat(t); return isNaN(n)?t:n;};
    rows.sort((a,b)=>{const x=key(a),y=key(b); return (x>y?1:x<y?-1:0)*dir;});
    rows.forEach(r=>table.tBodies[0].appendChild(r));
  }));
})();
"""


def anchor(case_id: str) -> str:
    return "case-" + re.sub(r"[^a-zA-Z0-9_.-]", "_", case_id)


def _link(case_id: str) -> str:
    return f'<a href="#{anchor(case_id)}">{escape(case_id)}</a>'


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA else str(value)


def _colour(status: Any) -> str:
    if not isinstance(status, str) or not status.strip():
        return ""
    return f"background-color: {STATUS_COLOURS.get(status.split()[0], '#fff')}"


def _adapters_first(columns: Any) -> list[str]:
    """Columns in the usual adapter order, anything else (totals) after."""
    known = [a for a in adapter_names() if a in columns]
    return known + [c for c in columns if c not in known]


def environment_block(df: pd.DataFrame, env: dict[str, str]) -> str:
    rows = dict(env)
    for version in sorted({v for v in df["framework_version"].dropna().unique() if isinstance(v, str)}):
        rows.setdefault(version.split()[0], version)
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows.items())
    return f'<h2 id="environment">Environment</h2><table class="env">{body}</table>'


def summary_grid(df: pd.DataFrame) -> str:
    cells: dict[str, dict[str, str]] = {}
    for case_id, adapter, status, passed in zip(df["case_id"], df["adapter"], df["status"], df["passed"]):
        cells.setdefault(case_id, {})[adapter] = f"{status}{ {True: ' ✓', False: ' ✗'}.get(passed, '')}"
    grid = pd.DataFrame.from_dict(cells, orient="index")
    grid = grid[_adapters_first(grid.columns)].fillna("")  # an adapter the case does not run in
    grid.index = [_link(i) for i in grid.index]
    grid.index.name = "case"
    counts = pd.crosstab(df["status"], df["adapter"], margins=True, margins_name="all")
    counts = counts[_adapters_first(counts.columns)]
    passed = df.groupby("adapter")["passed"].apply(lambda s: int((s == True).sum()))
    counts.loc["passed"] = passed.reindex(counts.columns).fillna(int((df["passed"] == True).sum()))
    counts_html = counts.style.to_html(table_attributes='class="counts"')
    grid_html = grid.style.map(_colour).to_html(table_attributes='class="grid"')
    total, failing = len(df), int((df["passed"] == False).sum())
    headline = (f"<p><b>{df['case_id'].nunique()}</b> cases, <b>{total}</b> pairs: "
                f"<span class='{'fail' if failing else 'pass'}'>{failing} failing</span>, {total - failing} passing "
                "(a pair passes when its status is the one expected: <code>match</code>, or what the case records).</p>")
    return f'<h2 id="summary">Summary</h2>{headline}<h3>Statuses per adapter</h3>{counts_html}<h3>Cases x adapters</h3>{grid_html}'


def failing_pairs(df: pd.DataFrame) -> str:
    failing = df[df["passed"] == False]
    if failing.empty:
        return '<h2 id="failing">Failing pairs</h2><p class="pass">None: every pair behaves as recorded.</p>'
    table = pd.DataFrame({
        "case": [_link(c) for c in failing["case_id"]], "adapter": failing["adapter"].map(escape),
        "status": failing["status"], "expected": failing["expected"],
        "mismatch on": failing["mismatch_on"].map(_text), "err_bound_ratio": failing["err_bound_ratio"].map(_ratio),
        "error": (failing["error_type"].map(_text) + ": " + failing["error_message"].map(_text)).str.strip(": ").map(escape),
    })
    html = table.style.hide(axis="index").map(_colour, subset=["status"]).to_html()
    return f'<h2 id="failing">Failing pairs ({len(failing)})</h2>{html}'


def _ratio(value: Any) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.3g}"


def all_pairs(df: pd.DataFrame, records: list[dict[str, Any]]) -> str:
    options = lambda values: "".join(f'<option value="{escape(v)}">{escape(v)}</option>' for v in values)
    filters = (f'<p class="filters">status <select id="f-status"><option value="">all</option>'
               f'{options(sorted(df["status"].dropna().unique()))}</select> adapter <select id="f-adapter">'
               f'<option value="">all</option>{options(sorted(df["adapter"].dropna().unique()))}</select>'
               " (click a column heading to sort)</p>")
    head = ["case", "adapter", "status", "expected", "passed", "realization", "shape", "pads t,b,l,r",
            "reference pads", "params", "err_bound_ratio", "seconds"]
    body = []
    for r in records:
        pads, ref = _pads(r, "pad_"), _pads(r, "ref_pad_")
        cells = [_link(r["case_id"]), escape(_text(r["adapter"])), escape(_text(r["status"])), escape(_text(r["expected"])),
                 {True: "✓", False: "✗"}.get(r["passed"], ""), escape(_text(r["realization"])), escape(_text(r["out_shape"])),
                 ",".join(map(str, pads)) if pads else "", ",".join(map(str, ref)) if ref else "",
                 _text(r["param_count"]), _ratio(r["err_bound_ratio"]), _ratio(r["seconds"])]
        tds = "".join(f'<td style="{_colour(r["status"])}">{c}</td>' if i == 2 else f"<td>{c}</td>" for i, c in enumerate(cells))
        body.append(f'<tr data-status="{escape(_text(r["status"]))}" data-adapter="{escape(_text(r["adapter"]))}">{tds}</tr>')
    thead = "".join(f"<th>{h}</th>" for h in head)
    return (f'<h2 id="pairs-h">Every pair</h2>{filters}<table id="pairs" class="pairs"><thead><tr>{thead}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _side_by_side(columns: dict[str, list[str]], labels: list[str], keep: list[int]) -> str:
    """The adapters-side-by-side table of one case. Built directly: DataFrame.to_html costs
    about 5 ms a table, a tenth of the harness's own time on a 120-case run."""
    head = "".join(f"<th>{escape(name)}</th>" for name in columns)
    body = "".join(
        f"<tr><th>{escape(label)}</th>" + "".join(
            f'<td style="{_colour(values[i]) if values[i].split(" ")[0] in STATUS_COLOURS else ""}">{escape(values[i])}</td>'
            for values in columns.values()) + "</tr>"
        for label, i in zip(labels, keep))
    return f'<table class="side"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>'


def case_section(case_id: str, rows: list[dict[str, Any]]) -> str:
    first = rows[0]
    failing = any(r["passed"] is False for r in rows)
    ref_pads = _pads(first, "ref_pad_")
    columns: dict[str, list[str]] = {"reference": [
        "", "", "", _text(first["ref_shape"]) or "(invalid: no output)",
        " ".join(map(str, ref_pads)) if ref_pads else "", _text(first["expected_param_count"]), "", "", "", ""]}
    for r in rows:
        pads = _pads(r, "pad_")
        worst = (f"at {r['worst_index']}: {r['worst_value']:.6g} vs {r['worst_reference']:.6g} (bound {r['worst_bound']:.3g})"
                 if isinstance(r.get("worst_index"), str) else "")
        columns[r["adapter"]] = [
            f"{_text(r['status'])}{' (expected ' + _text(r['expected']) + ')' if r['status'] != r['expected'] else ''}",
            _text(r["realization"]), _text(r["framework_version"]), _text(r["out_shape"]),
            " ".join(map(str, pads)) if pads else "", _text(r["param_count"]), _ratio(r["err_bound_ratio"]), worst,
            (f"{_text(r['error_type'])}: " if _text(r["error_type"]) else "") + _text(r["error_message"]),
            _text(r["reason"]),
        ]
    index = ["status", "realization", "version", "shape (N C spatial)", "pads / crops (low high per axis)", "parameters",
             "err_bound_ratio", "worst element", "error / note", "recorded reason"]
    keep = [i for i in range(len(index)) if any(values[i] for values in columns.values())]
    table = _side_by_side(columns, [index[i] for i in keep], keep)
    found = re.search(r" in=(\d+(?:x\d+)*) ", _text(first["case"]))
    size = tuple(int(v) for v in found.group(1).split("x")) if found else None
    rank = int(first["rank"]) if first.get("rank") is not None else 2
    pictures = [svg.pad_picture("reference", ref_pads, None, size, rank)] + [
        svg.pad_picture(r["adapter"], _pads(r, "pad_"), ref_pads, size, rank) for r in rows]
    heat = [svg.heat_map(r["diff_map"], r["adapter"]) for r in rows if isinstance(r["diff_map"], str)]
    doc = f"<p>{escape(_text(first['doc']))}</p>" if _text(first["doc"]) else ""
    where = f"{escape(_text(first['file']))}:{_text(first['line'])}"
    return (f'<div class="case{" failing" if failing else ""}" id="{anchor(case_id)}"><h3>{escape(case_id)}</h3>'
            f'<p class="meta">{escape(_text(first["case"]))}<br>{where}</p>{doc}'
            f'{table}<div class="pictures">{"".join(pictures)}</div>'
            f'{"<div class=heatmaps>" + "".join(heat) + "</div>" if heat else ""}</div>')


def render_html(df: pd.DataFrame, env: dict[str, str]) -> str:
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Convolution comparison report</title>"
             f"<style>{CSS}</style></head><body>{svg.hatch_defs()}<h1>Convolution comparison report</h1>",
             environment_block(df, env)]
    if df.empty:
        parts.append('<h2 id="summary">Summary</h2><p class="empty">No cases ran: the case files or the selection '
                     "(<code>-k</code>, <code>-a</code>) gave no (case, adapter) pair.</p>")
    else:
        records = df.astype(object).where(df.notna(), None).to_dict("records")  # empty cells -> None
        parts += [summary_grid(df), failing_pairs(df), all_pairs(df, records), '<h2 id="cases">Cases</h2>']
        groups: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            groups.setdefault(record["case_id"], []).append(record)
        order = sorted(groups, key=lambda c: all(r["passed"] is not False for r in groups[c]))  # failing first
        parts += [case_section(case_id, groups[case_id]) for case_id in order]
    parts.append(f"<script>{SCRIPT}</script></body></html>")
    return "".join(parts)
