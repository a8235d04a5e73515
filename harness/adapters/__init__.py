"""The adapter registry: name -> adapter class, imported only when first asked for.

Importing this package imports no framework. `HARNESS_FRAMEWORKS=torch,keras,jax` makes
the named frameworks mandatory, so a run cannot pass by skipping them all.
"""

from __future__ import annotations

import importlib
import os

from ..schema import ADAPTER_NAMES
from .base import Adapter, Output, Plan, Realisation, Unsupported, describe_error

__all__ = ["ADAPTER_NAMES", "Adapter", "Output", "Plan", "Realisation", "Unsupported",
           "describe_error", "get_adapter", "required_frameworks"]

_CLASSES = {"torch": "TorchAdapter", "keras": "KerasAdapter", "jax": "JaxAdapter"}
_instances: dict[str, Adapter] = {}


def get_adapter(name: str) -> Adapter:
    """The one instance of the named adapter (its framework is still not imported)."""
    if name not in _instances:
        module = importlib.import_module(f"{__name__}.{name}")
        _instances[name] = getattr(module, _CLASSES[name])()
    return _instances[name]


def required_frameworks() -> set[str]:
    """Adapters named in HARNESS_FRAMEWORKS: missing ones are errors, not skips."""
    raw = os.environ.get("HARNESS_FRAMEWORKS", "")
    return {name.strip() for name in raw.split(",") if name.strip()}
