"""report.html (interim: a plain table until the full report lands)."""

from __future__ import annotations

import html

import pandas as pd


def render_html(df: pd.DataFrame, env: dict[str, str]) -> str:
    envrows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in env.items())
    return f"<!doctype html><html><body><table>{envrows}</table>{df.to_html(index=False)}</body></html>"
