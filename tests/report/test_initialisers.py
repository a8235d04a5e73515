"""The report's initialiser section, from rows alone."""

from __future__ import annotations

import pandas as pd

from harness.report.initialisers import histogram_svg, init_section


def test_histograms_are_drawn_to_their_largest_count() -> None:
    svg = histogram_svg("0.5:2 4")
    assert 'aria-label="histogram over ±0.5"' in svg and svg.count("<rect") == 2 and 'height="28.0"' in svg
    assert "all 0" in histogram_svg("0:30")


def test_section_lists_each_init_case_with_both_parts() -> None:
    df = pd.DataFrame([
        {"case_id": "c", "adapter": "torch", "status": "match", "pass": "init", "init_kernel": "U(±0.0833); fan_in 144",
         "init_bias": "U(±0.0833); fan_in 144", "init_kernel_p": 0.4, "init_bias_p": 0.7,
         "init_declared": "kernel U(±1/sqrt(fan_in))", "init_histogram": "kernel=0.08:1 2;bias=0.08:2 1"},
        {"case_id": "c", "adapter": "keras", "status": "mismatch", "pass": "init", "init_kernel": "U(±0.1166)",
         "init_bias": "0", "init_kernel_p": 0.0, "init_bias_p": 0.0, "init_declared": "kernel glorot",
         "init_histogram": "kernel=0.1:3 3;bias=0:5"},
        {"case_id": "c", "adapter": "torch", "status": "match", "pass": "forward"},
    ])
    html = init_section(df)
    assert html.startswith('<h2 id="initialisers">') and html.count("<tr><td>") == 2
    assert "vs torch: KS p 0.4" in html and "U(±0.1166)" in html and html.count("<svg") == 4
    assert init_section(df[df["pass"] == "forward"]) == ""
