"""The run's rows as one line per layer: shared configurations, verdict cells, the library's reasons."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.fuzz.kinds import recorded_reasons
from harness.intake.layer import Extraction, Unexpressed
from harness.intake.layer_report import LayerRun, markdown, summary, table
from harness.results.csv_codec import csv_text, frame
from harness.results.rows import Row

FIELDS = {"in_channels": 3, "input_size": [8, 8], "out_channels": 4, "padding": "same"}
LAYERS = [LayerRun("stem", "stem", "Conv2D", FIELDS, "stem"), LayerRun("twin", "twin", "Conv2D", FIELDS, "stem"),
          LayerRun("up", "up", "Conv2DTranspose", {**FIELDS, "padding": [1, 1]}, "up")]
REFUSAL = "padding='same' is not supported for strided convolutions"


def _rows() -> pd.DataFrame:
    def row(case: str, adapter: str, status: str, **extra: object) -> Row:
        return Row(case_id=case, file="m.yaml", adapter=adapter, status=status, expected="match",
                   passed=status == "match", **extra)  # type: ignore[arg-type]

    return frame([row("stem", "torch", "error", error_type="ValueError", error_message=REFUSAL),
                  row("stem", "keras", "match", err_bound_ratio=0.25),
                  row("up", "torch", "match", err_bound_ratio=0.5),
                  row("up", "keras", "mismatch", mismatch_on="values", err_bound_ratio=3e6, diagnosis="shift",
                      pad_top=1, pad_bottom=1, pad_left=1, pad_right=1, ref_pad_top=0, ref_pad_bottom=2,
                      ref_pad_left=0, ref_pad_right=2)])


def test_a_shared_configuration_reports_the_first_layers_rows() -> None:
    df = table(LAYERS, _rows(), ["torch", "keras"])
    twin = df[df["layer"] == "twin"]
    assert list(twin["same_as"]) == ["stem", "stem"] and list(twin["outcome"]) == ["differs", "same"]
    cell = df[(df["layer"] == "up") & (df["adapter"] == "keras")]["detail"].item()
    assert cell == "mismatch: 3e+06x the bound, on values, pads t,b,l,r 1,1,1,1 (reference 0,2,0,2), shift"


def test_summary_counts_per_adapter_and_names_the_layers_that_differ() -> None:
    extraction = Extraction("Net", "net.keras", unexpressed=[Unexpressed("lstm", "ConvLSTM2D", "why")])
    lines = summary(extraction, table(LAYERS, _rows(), ["torch", "keras"]), 2)
    assert lines == ["Net: 3 convolutions (2 distinct configurations); 1 more the harness cannot express (listed "
                     "below)", "  torch: 1 compute the same, 2 do not: stem (error), twin (error)",
                     "  keras: 2 compute the same, 1 do not: up (mismatch)", "  cannot express lstm (ConvLSTM2D): why"]


def test_a_divergence_the_library_records_is_named_with_its_reason(tmp_path: Path) -> None:
    recorded = Row(case_id="strided-same", file="cases/same.yaml", adapter="torch", status="error", expected="error",
                   passed=True, error_type="ValueError", error_message=REFUSAL,
                   reason="torch has no strided 'same'. It refuses it.")
    (tmp_path / "results.csv").write_text(csv_text(frame([recorded])))
    df = table(LAYERS, _rows(), ["torch", "keras"], recorded_reasons(tmp_path / "results.csv"))
    assert set(df[df["adapter"] == "torch"]["known"]) == {"torch has no strided 'same'. It refuses it.", ""}
    lines = summary(Extraction("Net", "n"), df, 2)
    assert lines[1].endswith("(all as the case library records: torch has no strided 'same')")
    assert "(known: torch has no strided 'same')" in markdown(Extraction("Net", "n"), df, lines)


def test_an_interrupted_run_says_so_first_and_counts_what_did_not_run() -> None:
    rows = _rows()
    rows = rows[~((rows["case_id"] == "up") & (rows["adapter"] == "keras"))]  # the run stopped before it
    df = table(LAYERS, rows, ["torch", "keras"])
    lines = summary(Extraction("Net", "n"), df, 2, interrupted=True)
    assert lines[0].startswith("INTERRUPTED: 1 layer x adapter pairs did not run; the same command with --resume")
    assert lines[-1] == "  keras: 2 compute the same, 1 not run"
