"""Where caches that make a second run faster live (`HARNESS_CACHE_DIR`), never the repo."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def cache_dir() -> Path:
    path = Path(os.environ.get("HARNESS_CACHE_DIR") or platformdirs.user_cache_dir("conv-harness"))
    path.mkdir(parents=True, exist_ok=True)
    return path
