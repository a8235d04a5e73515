"""run.loop.rows_probing_differences: pads measured only where a pair differs (the fuzzer's look at a batch)."""

from __future__ import annotations

from pathlib import Path

from helpers import make_case

from harness.run.loop import rows_probing_differences, run_rows
from harness.run.prepared import Prepared
from harness.run.workers import Executor


def test_only_the_pairs_that_differ_have_their_pads_measured(tmp_path: Path) -> None:
    """The first look runs without the probe; a pair that computed something else is run again with it, so its
    diagnosis reads the pads: SciPy's 'same' with a 2x4 kernel pads (1, 2) before where the reference pads (0, 1)
    (a shift); torch's matches and is measured no further."""
    case = make_case(id="even-same", op="convolve", input_size=[7, 8], kernel_size=[2, 4], padding="same")
    with Executor(timeout=60) as executor:
        rows = {row.adapter: row for row in rows_probing_differences([case], ["scipy", "torch"], executor,
                                                                      frozenset())[case.id]}
        later = [row for row in run_rows([case], ["torch"], executor, prepared=Prepared()) if row.pass_ == "forward"]
        assert later[0].pad_top is not None  # the same workers measure pads for every later caller
    assert rows["scipy"].status == "mismatch" and rows["scipy"].diagnosis == "shift"
    scipy = rows["scipy"]
    assert (scipy.pad_top, scipy.pad_left, scipy.ref_pad_top, scipy.ref_pad_left) == (1, 2, 0, 1)
    assert rows["torch"].status == "match" and rows["torch"].pad_top is None
