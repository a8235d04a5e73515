"""A case's data, reference and error bound: computed once in the parent, shared by its adapters."""

from __future__ import annotations

import numpy as np

from ..model.data import Tensors, make_tensors
from ..model.schema import Case
from .bounds import error_bound
from .reference import Reference, reference


def prepare(case: Case) -> tuple[Tensors, Reference, np.ndarray | None]:
    """The operands (seeded), the float64 reference, and its bound (None for an invalid case)."""
    tensors = make_tensors(case, case.seed)
    ref = reference(case, tensors)
    return tensors, ref, None if ref.invalid else error_bound(case, ref)
