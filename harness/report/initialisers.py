"""The report's initialiser section: for each init case, every framework's default draws side by side.

One table per case: per adapter the kernel's and the bias's measured family and scale (with the fan it
implies), the KS p-value against torch's default and the framework's own documented rule, and a small
histogram of each (inline SVG over [-m, m], m the largest draw, drawn from the row's `init_histogram`).
"""

from __future__ import annotations

from html import escape

import pandas as pd

from .firstscreen import link, text

WIDTH, HEIGHT = 96, 28


def histogram_svg(spec: str) -> str:
    """`m:c1 c2 ...` as bars; a constant (`0:n`) as one bar at 0."""
    magnitude, _, counts_text = spec.partition(":")
    counts = [int(c) for c in counts_text.split()] or [0]
    if float(magnitude) == 0:
        counts = [0] * 11 + [counts[0]] + [0] * 12
    top, width = max(max(counts), 1), WIDTH / len(counts)
    bars = "".join(f'<rect x="{i * width:.1f}" y="{HEIGHT - HEIGHT * c / top:.1f}" width="{width * 0.9:.1f}" '
                   f'height="{HEIGHT * c / top:.1f}"/>' for i, c in enumerate(counts) if c)
    label = f"over ±{float(magnitude):.3g}" if float(magnitude) else "all 0"
    return (f'<svg class="hist" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="histogram {label}">'
            f"<title>{label}</title>{bars}</svg>")


def _histograms(value: object) -> dict[str, str]:
    parts = (p.partition("=") for p in text(value).split(";") if "=" in p)
    return {name: histogram_svg(spec) for name, _, spec in parts}


def init_section(df: pd.DataFrame) -> str:
    """The section, or '' when no row is of the init pass."""
    rows = df[df.get("pass", pd.Series(dtype=object)) == "init"] if "pass" in df else df.iloc[:0]
    ran = rows[rows["status"].isin(["match", "mismatch"])]
    if ran.empty:
        return ""
    tables = []
    for case_id, group in ran.groupby("case_id", sort=False):
        body = []
        for r in group.itertuples(index=False):
            shown = _histograms(r.init_histogram)
            cells = [escape(str(r.adapter)), f'<span class="st {escape(str(r.status))}">{escape(str(r.status))}</span>']
            for part in ("kernel", "bias"):
                measured, p = text(getattr(r, f"init_{part}")), getattr(r, f"init_{part}_p")
                p_text = "" if p is None or p != p else f"<br><small>vs torch: KS p {float(p):.3g}</small>"
                cells.append(f"{shown.get(part, '')} {escape(measured) or '(none)'}{p_text}")
            cells.append(f"<small>{escape(text(r.init_declared))}</small>")
            body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        tables.append(f"<h3>{link(str(case_id))}</h3><table class=init><thead><tr><th>adapter</th><th>status</th>"
                      "<th>kernel</th><th>bias</th><th>its documented default (KS p)</th></tr></thead>"
                      f"<tbody>{''.join(body)}</tbody></table>")
    return ('<h2 id="initialisers">Default initialisers</h2><p>Each layer built with its framework\'s defaults '
            "many times; the draws' family and scale, and the fan they imply, measured from the samples; "
            "tested (Kolmogorov-Smirnov, p 1e-6) against torch's default, which decides the status, and "
            "against the framework's own documented rule, which must hold.</p>" + "".join(tables))
