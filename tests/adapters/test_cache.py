"""The cache folder: a folder that cannot be written means no cache, never a failed pair."""

from __future__ import annotations

import pytest

from harness.adapters.cache import cache_dir, use_jax_cache


def test_an_unwritable_cache_folder_runs_without_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", "/proc/no-such-cache")  # /proc takes no new folders, even as root
    with pytest.warns(UserWarning, match="cannot be made"):
        assert cache_dir() is None

    class NoConfig:  # use_jax_cache must not touch JAX's config when there is no cache
        config = None

    with pytest.warns(UserWarning):
        use_jax_cache(NoConfig())
