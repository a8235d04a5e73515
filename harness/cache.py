"""Where caches that make a second run faster live (`HARNESS_CACHE_DIR`), never the repo."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import platformdirs


def cache_dir() -> Path:
    path = Path(os.environ.get("HARNESS_CACHE_DIR") or platformdirs.user_cache_dir("conv-harness"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def use_jax_cache(jax: Any) -> None:
    """JAX's persistent compilation cache under cache_dir(): a second run compiles nothing again."""
    jax.config.update("jax_compilation_cache_dir", str(cache_dir() / "jax"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
