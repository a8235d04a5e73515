"""An extraction written as cases and read back as the harness reads them: each layer's Case and reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from harness.cases.loading import load_cases
from harness.intake import casewriter
from harness.intake.layer import Extraction
from harness.truth.prepare import prepare


def written(extraction: Extraction, folder: Path) -> dict[str, tuple[Any, np.ndarray, np.ndarray]]:
    """layer name -> (its Case, the case's input, the float64 reference output), via the case file."""
    path = folder / "model.yaml"
    ids = casewriter.write(extraction, path)
    loaded = load_cases([path])
    assert not loaded.problems, loaded.problems
    cases = {c.id: c for c in loaded.cases}
    found = {}
    for case_id, layer in zip(ids, extraction.layers, strict=True):
        tensors, ref, _ = prepare(cases[case_id])
        assert ref.out is not None, (layer.name, ref.invalid)
        found[layer.name] = (cases[case_id], tensors.input, ref.out)
    return found


def close(got: np.ndarray, want: np.ndarray) -> bool:
    """float32 against float64 on small layers: a layout or sign bug is off by the values' own size."""
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(want).max())))
