"""Where caches that make a second run faster live (`HARNESS_CACHE_DIR`), never the repo."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import platformdirs


def cache_dir() -> Path | None:
    """The cache folder, made if need be; None where it cannot be written (the run goes on without)."""
    path = Path(os.environ.get("HARNESS_CACHE_DIR") or platformdirs.user_cache_dir("conv-harness"))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        warnings.warn(f"cache folder {path} cannot be made ({exc.strerror}); running without caches", stacklevel=2)
        return None
    if not os.access(path, os.W_OK | os.X_OK):
        warnings.warn(f"cache folder {path} is not writable; running without caches", stacklevel=2)
        return None
    return path


def use_jax_cache(jax: Any) -> None:
    """JAX's persistent compilation cache under cache_dir(): a second run compiles nothing again."""
    folder = cache_dir()
    if folder is None:
        return
    jax.config.update("jax_compilation_cache_dir", str(folder / "jax"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
