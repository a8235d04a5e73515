"""The adapter registry: the entry-point group `conv_harness.adapters` (name -> class).

The harness registers its own adapters there too, so the registered names are the one
source of truth for adapter names. Reading names imports nothing; an adapter's class is
loaded when first asked for, and its framework only in its `setup()`.
`HARNESS_FRAMEWORKS=torch,keras,jax` makes the named adapters mandatory.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Adapter

GROUP = "conv_harness.adapters"
_instances: dict[str, Adapter] = {}


@functools.cache
def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    found: dict[str, importlib.metadata.EntryPoint] = {}
    for entry in importlib.metadata.entry_points(group=GROUP):
        found.setdefault(entry.name, entry)
    return found


def adapter_names() -> tuple[str, ...]:
    """Every registered adapter, in registration order (the harness's own first)."""
    return tuple(_entry_points())


def get_adapter(name: str) -> Adapter:
    """The one instance of the named adapter (its framework is still not imported)."""
    if name not in _instances:
        cls = _entry_points()[name].load()
        _instances[name] = cls(name)
    return _instances[name]


def builds_as(name: str) -> str | None:
    """A route's source adapter, whose model it builds exactly (its build-time refusals are that adapter's)."""
    return get_adapter(name).builds_as if name in _entry_points() else None


def split_names(text: str | None) -> list[str]:
    """'torch, jax' -> ['torch', 'jax']: commas separate, spaces around names do not count."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def required_frameworks() -> set[str]:
    """Adapters named in HARNESS_FRAMEWORKS: missing ones are errors, not skips."""
    return set(split_names(os.environ.get("HARNESS_FRAMEWORKS")))
