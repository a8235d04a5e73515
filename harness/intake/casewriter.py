"""An extraction -> one case file with a case per layer, in model order, and the `.npz` of their arrays.

The arrays go to one `.npz` beside the case file (each layer's kernel and bias saved once, keys
`<id>.weights`, `<id>.bias`, `<id>.pointwise`, and `<id>.input` for a captured activation), and
each case names them (explicit data), so the file is a normal case file: `validate`, `run` and
pytest read it as any other. The two files are written together or not at all.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..atomic import atomic_write_all
from .layer import Extraction, Layer, case_ids

_ORDER = ("op", "batch", "in_channels", "input_size", "out_channels", "kernel_size", "stride", "dilation", "padding",
          "padding_mode", "output_padding", "groups", "depth_multiplier", "bias", "dtype", "layout")
_DEFAULTS: dict[str, Any] = {"padding_mode": "zeros", "groups": 1, "depth_multiplier": 1}


class _Flow(list[Any]):
    """A field's list, written in flow style ([3, 3]) as the shipped case files write them."""


class _Dumper(yaml.SafeDumper):
    """Cases and their mappings in block style, field values' lists in flow style."""


_Dumper.add_representer(_Flow, lambda dumper, data: dumper.represent_sequence(
    "tag:yaml.org,2002:seq", list(data), flow_style=True))


def _flow(value: Any) -> Any:
    return _Flow(_flow(v) for v in value) if isinstance(value, list) else value


def _padding(value: Any) -> Any:
    """Explicit pairs as the shortest spelling: valid, [p, q] for symmetric pads, pairs otherwise."""
    if isinstance(value, str):
        return value
    if all(lo == hi == 0 for lo, hi in value):
        return "valid"
    return [lo for lo, _ in value] if all(lo == hi for lo, hi in value) else [list(p) for p in value]


def case_fields(layer: Layer) -> dict[str, Any]:
    """The layer's case fields in the order the docs list them, defaults left out."""
    fields = dict(layer.fields)
    if "padding" in fields:
        fields["padding"] = _padding(fields["padding"])
    return {k: fields[k] for k in _ORDER if k in fields and _DEFAULTS.get(k, object()) != fields[k]}


def _yaml_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _flow(v) for k, v in fields.items()}


def configuration(fields: Mapping[str, Any]) -> str:
    """What makes two layers the same convolution, weights aside: identical ones run once."""
    return json.dumps(fields, sort_keys=True)


def _case_input(array: np.ndarray, fields: Mapping[str, Any]) -> np.ndarray:
    """A captured activation in the model's own layout as the case's input: N, C, spatial..."""
    if fields.get("layout") == "channels_last":
        array = np.moveaxis(array, -1, 0 if fields.get("batch") == "none" else 1)
    return array[None] if fields.get("batch") == "none" else array


def _doc(layer: Layer, extraction: Extraction) -> str:
    size = "x".join(str(s) for s in layer.fields["input_size"])
    return (f"{layer.kind} '{layer.name}' of {extraction.model} ({extraction.source}), {layer.fields['in_channels']} "
            f"channels of {size}, with its weights")


def write(extraction: Extraction, path: Path, activations: Mapping[str, np.ndarray] | None = None) -> list[str]:
    """Write the case file and its .npz (atomically); the case ids, in model order."""
    ids = case_ids(layer.name for layer in extraction.layers)
    archive = path.with_suffix(".npz")
    arrays: dict[str, np.ndarray] = {}
    cases = []
    for case_id, layer in zip(ids, extraction.layers, strict=True):
        data: dict[str, str] = {}
        captured = (activations or {}).get(layer.name)
        if captured is not None:
            arrays[f"{case_id}.input"] = _case_input(np.asarray(captured), layer.fields)
            data["input"] = f"{archive.name}:{case_id}.input"
        for name, array in layer.arrays.items():
            arrays[f"{case_id}.{name}"] = array
            data[name] = f"{archive.name}:{case_id}.{name}"
        cases.append({"id": case_id, "doc": _doc(layer, extraction), **_yaml_fields(case_fields(layer)), "data": data})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stubs type **kwds as allow_pickle
    header = (f"# Every convolution of {extraction.model} ({extraction.source}), one case per layer in model order,\n"
              f"# written by `python -m harness model`; the weights are in {archive.name}.\n")
    text = header + yaml.dump({"cases": cases}, Dumper=_Dumper, sort_keys=False, width=120)
    atomic_write_all({archive: buffer.getvalue(), path: text})
    return ids
