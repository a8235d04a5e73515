"""Repro bundles: what a user attaches to an upstream bug report (docs/reports.md).

A folder per case: `case.yaml` (the expanded case, a valid case file with its seed), `data.npz`
(input, weights, pointwise for separable, bias, the float64 reference output, its bound, and for a grad case the
cotangent and each reference gradient with its bound; no reference for a configuration that has no output; bfloat16 operands are stored as float32, which holds them exactly) and one standalone
script per adapter, named after it, that calls its framework exactly as the adapter did, with
no harness import (`script.repro_script`). A route's script also saves its converted artifact
(`torch-onnx.onnx`, `onnx2tf.tflite`), and `NAME-artifact.py` runs the runtime alone on it; the bundle
runs the route's script once, in a fresh process, to leave the artifact there. Writing a bundle imports
no framework.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..adapters.errors import Unsupported
from ..adapters.registry import get_adapter
from ..adapters.route import Route
from ..atomic import atomic_write
from ..cases.loading import Case
from ..model import ops
from ..model.datasource import is_kind
from ..model.schema import CONV_FIELDS
from ..quiet import QUIET_ENV
from ..truth.gradients import cotangent, reference_gradients
from ..truth.prepare import prepare
from .script import repro_script, route_scripts


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
            plan = adapter.plan(case)
        except Unsupported as exc:
            said.append(f"{name}: no script ({exc})")
            continue
        version = _version(adapter.requires)
        if isinstance(adapter, Route):
            scripts = route_scripts(case, adapter, plan, version)
            for file, text in scripts.items():
                atomic_write(folder / file, text)
            said += [str(folder / file) for file in scripts] + [saved_artifact(folder, adapter)]
            continue
        atomic_write(folder / f"{name}.py", repro_script(case, adapter, plan, version))
        said.append(f"{folder / name}.py")
    return said


ARTIFACT_TIMEOUT = 600  # seconds for a route's script to convert (onnx2tf and TensorFlow start slowly)


def saved_artifact(folder: Path, adapter: Route) -> str:
    """Run the route's own script once, in a fresh process, so its converted artifact lies in the bundle."""
    artifact = folder / adapter.artifact_name()
    artifact.unlink(missing_ok=True)
    env = {**os.environ, **QUIET_ENV}
    try:
        ran = subprocess.run([sys.executable, f"{adapter.name}.py"], cwd=folder, env=env, capture_output=True,
                             text=True, timeout=ARTIFACT_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"{adapter.name}: no artifact (its script ran past {ARTIFACT_TIMEOUT} s)"
    if artifact.is_file():
        return f"{artifact} (the converted model {adapter.name}-artifact.py runs)"
    last = (ran.stderr.strip().splitlines() or ran.stdout.strip().splitlines() or ["no output"])[-1]
    return f"{adapter.name}: no artifact, the conversion did not finish: {last}"


MAX_NAME = 120  # file systems allow 255 bytes a name; a long id is cut and keeps a hash to stay unique


def bundle_folder(output: Path, case: Case) -> Path:
    name = "".join(c if c.isalnum() or c in "._-" else "_" for c in case.id)
    if len(name) > MAX_NAME:
        name = f"{name[:MAX_NAME - 13]}-{hashlib.sha256(case.id.encode()).hexdigest()[:12]}"
    return output / name
