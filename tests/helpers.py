"""Small builders shared by the tests: a Case from keyword arguments, a third-party adapter installed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.cases.loading import Case, stable_seed
from harness.model.schema import Conv


def make_case(**fields: Any) -> Case:
    """A validated case; in/out channels, size and kernel default to a small valid conv."""
    expect = fields.pop("expect", {})
    data = {"id": "t", "in_channels": 2, "input_size": 6, "out_channels": 3, "kernel_size": 3, **fields}
    conv = Conv.model_validate(data)
    return Case.model_construct(**{**dict(conv), "seed": conv.seed if conv.seed is not None else stable_seed(conv.id)},
                                file="t.yaml", line=1, values={}, expect=expect)


def install_fake(tmp_path: Path) -> dict[str, str]:
    """A package that only declares an entry point, importable through PYTHONPATH."""
    site = tmp_path / "site"
    FAKE = (Path(__file__).parent / "fake_engine.py").read_text()
    (site / "fake_engine-1.0.dist-info").mkdir(parents=True)
    (site / "fake_engine-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-engine\nVersion: 1.0\n")
    (site / "fake_engine-1.0.dist-info" / "entry_points.txt").write_text(
        "[conv_harness.adapters]\nnumpy-engine = fake_engine:NumpyAdapter\n")
    (site / "fake_engine.py").write_text(FAKE)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}


def children_of(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (read from /proc, no extra package)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def descendants_of(pid: int) -> list[int]:
    """The live processes below `pid`: its children, theirs, and so on."""
    found, below = [], children_of(pid)
    while below:
        found += below
        below = [grandchild for child in below for grandchild in children_of(child)]
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
