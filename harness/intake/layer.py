"""One convolution found in a model, in the case model's terms, and one the harness cannot express.

A leaf module: the three readers (torch, Keras, ONNX) produce these, the case writer and the
per-layer report read them. `fields` are case fields (docs/cases.md) without id, doc and data;
`arrays` hold the layer's own kernel and bias in the case model's framework-neutral layout
(harness/model/ops.py: torch's), so a case is the layer whatever the framework stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_NOT_ID = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True)
class Layer:
    name: str  # the layer's path in the model: features.3.conv, block_2_depthwise, an ONNX node's name
    kind: str  # what the model calls it: nn.Conv2d, F.conv2d, DepthwiseConv2D, ONNX Conv
    fields: dict[str, Any]
    arrays: dict[str, np.ndarray]  # weights, bias, pointwise: the case model's layout


@dataclass(frozen=True)
class Unexpressed:
    """A convolution of the model that no case can describe, with why: listed, never dropped."""

    name: str
    kind: str
    why: str


@dataclass
class Extraction:
    model: str  # the model's name, for the summary and the case file's name
    source: str  # what was read, in the user's words
    layers: list[Layer] = field(default_factory=list)
    unexpressed: list[Unexpressed] = field(default_factory=list)


def case_ids(names: Iterable[str]) -> list[str]:
    """Each name as a case id ([a-z0-9][a-z0-9._-]*), in order, made unique by -2, -3 ... suffixes.

    `/features/features.0/Conv` -> `features-features.0-conv`; `block_2_depthwise` stays as it is.
    """
    ids: list[str] = []
    seen: set[str] = set()
    for name in names:
        base = _NOT_ID.sub("-", name.lower()).strip("-._") or "layer"  # what is left starts alphanumeric
        candidate, n = base, 1
        while candidate in seen:
            n += 1
            candidate = f"{base}-{n}"
        seen.add(candidate)
        ids.append(candidate)
    return ids


def per_axis(value: Any, rank: int) -> list[int]:
    """An int or a sequence as one int per spatial axis (frameworks store both)."""
    if isinstance(value, (int, np.integer)):
        return [int(value)] * rank
    values = [int(v) for v in value]
    return values * rank if len(values) == 1 else values
