"""`harness model`: read a model, write a case per convolution, run them, report layer by layer.

Identical configurations (every case field but the weights) run once, as the first layer that
has them; the other layers get its rows. The run is `run`'s own (workers, memory guard,
timeouts, journal, --resume-safe results.csv and report.html in the output folder), so the exit
code is run's: 0 every layer computes the same, 1 some pair failed, 2 bad input, 130 interrupted.
`library_results`: a results.csv of the case library, whose recorded divergences the report names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..fuzz.kinds import recorded_reasons
from ..problems import BadInput
from ..quiet import captured
from . import casewriter, layer_report, sources


def _activations(path: str | None) -> dict[str, np.ndarray] | None:
    if path is None:
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: np.asarray(archive[key]) for key in archive.files}
    except (OSError, ValueError) as exc:
        raise BadInput(f"--inputs {path}: not an .npz archive of arrays ({exc})") from None


def default_cases_path(output: str, model: str) -> Path:
    return Path(output) / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', model).strip('-') or 'model'}.yaml"


def model_command(source: str, shapes: Sequence[str], output: str, only: Sequence[str] | None,
                  write_cases: str | None, inputs: str | None, argv: Sequence[str], timeout: float | None,
                  max_memory: str | None, repro: bool, library_results: Path, resume: bool = False) -> int:
    from ..adapters.registry import adapter_names
    from ..cases.loading import LoadResult, load_cases
    from ..results.csv_codec import read_csv
    from ..run.loop import run_command

    activations = _activations(inputs)
    wanted = [sources.input_shape(s) for s in shapes]
    with captured(f"reading {source}"):  # TensorFlow's and torch.export's chatter stays off the terminal
        extraction = sources.read(source, wanted)
    if not extraction.layers:
        lines = [f"  {u.name} ({u.kind}): {u.why}" for u in extraction.unexpressed]
        raise BadInput("\n".join([f"{source}: no convolution the harness can express"
                                  + (" (the ones it has:)" if lines else ""), *lines]))
    cases_path = Path(write_cases) if write_cases else default_cases_path(output, extraction.model)
    ids = casewriter.write(extraction, cases_path, activations)
    loaded = load_cases([cases_path])
    by_id = {case.id: case for case in loaded.cases}
    first: dict[str, str] = {}
    layers = []
    for case_id, layer in zip(ids, extraction.layers, strict=True):
        fields = casewriter.case_fields(layer)
        own_input = activations is not None and layer.name in activations  # a captured input: its own run
        key = casewriter.configuration({**fields, **({"input": case_id} if own_input else {})})
        ran_as = first.setdefault(key, case_id) if case_id in by_id else case_id
        layers.append(layer_report.LayerRun(case_id, layer.name, layer.kind, fields, ran_as))
    runs = [by_id[i] for i in dict.fromkeys(layer.ran_as for layer in layers) if i in by_id]
    print(f"{extraction.model}: {len(layers)} convolutions, {len(first)} distinct configurations; "
          f"wrote {cases_path} and {cases_path.with_suffix('.npz')}")
    results = Path(output) / "results.csv"
    before = results.stat().st_mtime_ns if results.is_file() else None
    code = run_command(LoadResult(cases=runs, problems=loaded.problems), output, only, argv=argv, resume=resume,
                       timeout=timeout, max_memory=max_memory, repro=repro)
    if not results.is_file() or results.stat().st_mtime_ns == before:  # nothing ran: an older report stays
        return code
    rows = read_csv(results)
    ran = set(rows["adapter"])
    adapters = [name for name in adapter_names() if name in ran]
    df = layer_report.table(layers, rows, adapters, recorded_reasons(library_results))
    lines = layer_report.summary(extraction, df, len(first), interrupted=code == 130)
    written = layer_report.write(extraction, df, lines, Path(output))
    print("\n".join(["", *lines, f"wrote {', '.join(str(p) for p in written)}"]))
    return code
