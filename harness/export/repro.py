"""Repro bundles: what a user attaches to an upstream bug report (docs/reports.md).

A folder per case: `case.yaml` (the expanded case, a valid case file with its seed), `data.npz`
(input, weights, pointwise for separable, bias, the float64 reference output, its bound, and for a grad case the
cotangent and each reference gradient with its bound; no reference for a configuration that has no output; bfloat16 operands are stored as float32, which holds them exactly) and one standalone
script per adapter, named after it, that calls its framework exactly as the adapter did, with
no harness import (`script.repro_script`). Writing a bundle imports no framework.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..adapters.errors import Unsupported
from ..adapters.registry import get_adapter
from ..atomic import atomic_write
from ..cases.loading import Case
from ..model import ops
from ..model.datasource import is_kind
from ..model.schema import CONV_FIELDS
from ..truth.gradients import cotangent, reference_gradients
from ..truth.prepare import prepare
from .script import repro_script


def _plain(array: np.ndarray | None) -> np.ndarray | None:
    if array is None:
        return None
    return array.astype(np.float32) if array.dtype.name == "bfloat16" else array


def case_document(case: Case) -> str:
    fields = case.model_dump(mode="json", include=set(CONV_FIELDS), exclude={"adapters", "tolerance"},
                             exclude_defaults=True)
    fields = {"id": case.id.replace("[", "-").replace("]", "").replace(",", "-").replace("=", "-"), **fields,
              "seed": case.seed}
    fields["doc"] = f"repro of {case.id} ({case.file}:{case.line})"
    explicit = {name: f"data.npz:{name}" for name in ("input", "weights", "pointwise", "bias")
                if getattr(case.data, name) is not None and not is_kind(getattr(case.data, name))}
    if explicit:  # the user's own arrays travel in the bundle's data.npz, under the same names
        fields["data"] = {**fields.get("data", {}), **explicit}
    return yaml.safe_dump({"cases": [fields]}, sort_keys=False)


def _version(modules: tuple[str, ...]) -> str:
    found = []
    for module in modules:
        try:
            found.append(f"{module} {importlib.metadata.version(module.replace('_', '-'))}")
        except importlib.metadata.PackageNotFoundError:
            found.append(module)
    return ", ".join(found)


def write_bundle(case: Case, adapters: list[str], folder: Path) -> list[str]:
    """Write the bundle; the lines say what each adapter got (a script, or why none)."""
    tensors, ref, bound = prepare(case)
    arrays: dict[str, Any] = {"input": _plain(tensors.input), "weights": _plain(tensors.weights)}
    if tensors.pointwise is not None:
        arrays["pointwise"] = _plain(tensors.pointwise)
    if tensors.bias is not None:
        arrays["bias"] = _plain(tensors.bias)
    if ref.out is not None and bound is not None:
        arrays.update(reference=ref.out, bound=bound)
        if case.grad:  # the cotangent, and each reference gradient with its bound
            g = cotangent(case, ref.out.shape, case.seed)
            arrays["cotangent"] = _plain(g)
            grads = reference_gradients(case, tensors.input, tensors.weights, g, tensors.pointwise)
            for name in ops.gradient_names(case):
                arrays.update({f"reference_{name}": grads[name].value, f"bound_{name}": grads[name].bound(case)})
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "data.npz", **arrays)
    atomic_write(folder / "case.yaml", case_document(case))
    said = [f"{folder}/case.yaml, {folder}/data.npz" + ("" if ref.out is not None else
                                                          f" (no reference: {ref.invalid})")]
    for name in adapters:
        adapter = get_adapter(name)
        try:
            text = repro_script(case, adapter, adapter.plan(case), _version(adapter.requires))
        except Unsupported as exc:
            said.append(f"{name}: no script ({exc})")
            continue
        atomic_write(folder / f"{name}.py", text)
        said.append(f"{folder / name}.py")
    return said


MAX_NAME = 120  # file systems allow 255 bytes a name; a long id is cut and keeps a hash to stay unique


def bundle_folder(output: Path, case: Case) -> Path:
    name = "".join(c if c.isalnum() or c in "._-" else "_" for c in case.id)
    if len(name) > MAX_NAME:
        name = f"{name[:MAX_NAME - 13]}-{hashlib.sha256(case.id.encode()).hexdigest()[:12]}"
    return output / name
