"""Which device an adapter runs on (HARNESS_DEVICE), checked before any work and asked of the results.

`requested_device` reads the variable; `check_device` checks it in the parent without a framework
(its spelling, and an NVIDIA device node for cuda); `no_device` is the refusal of a framework that
cannot see the GPU (a CPU-only build), so that no pair runs silently on the CPU; `device_text`
reads where a framework really put a result.
"""

from __future__ import annotations

import os
from typing import Any


def requested_device() -> tuple[str, int]:
    """HARNESS_DEVICE as (kind, index): 'cpu' (default) -> ('cpu', 0), 'cuda:1' -> ('cuda', 1)."""
    text = os.environ.get("HARNESS_DEVICE", "cpu").strip().lower() or "cpu"
    kind, _, index = text.partition(":")
    if kind not in ("cpu", "cuda", "gpu") or (index and not index.isdigit()):
        raise ValueError(f"HARNESS_DEVICE={text!r}: expected cpu, cuda or cuda:N")
    return ("cpu" if kind == "cpu" else "cuda"), int(index or 0)


def check_device() -> None:
    """HARNESS_DEVICE checked before any work, without a framework: its spelling, and for cuda:N an
    NVIDIA device node N on this machine (ValueError says what is wrong)."""
    kind, index = requested_device()
    if kind == "cuda" and not os.path.exists(f"/dev/nvidia{index}"):
        raise ValueError(f"HARNESS_DEVICE={os.environ['HARNESS_DEVICE']}: this machine has no NVIDIA GPU {index} "
                         f"(no /dev/nvidia{index}); unset it to run on the CPU")


def no_device(framework: str, kind: str, index: int) -> RuntimeError:
    """A framework that cannot see the requested GPU (a CPU build): every pair says so, none runs elsewhere."""
    return RuntimeError(f"HARNESS_DEVICE asks for {kind}:{index} but {framework} sees no such GPU (a CPU-only "
                        "build?); it would silently run on the CPU")


def device_text(tensor: Any) -> str | None:
    """Where a framework put a result, asked of the result itself: 'cpu:0', 'cuda:0', 'gpu:0'."""
    devices = getattr(tensor, "devices", None)
    if callable(devices):  # a JAX array
        device = next(iter(devices()))
        return f"{device.platform}:{device.id}"
    device = getattr(tensor, "device", None)
    if isinstance(device, str):  # TensorFlow: /job:localhost/replica:0/task:0/device:CPU:0
        kind, _, index = device.rsplit("device:", 1)[-1].partition(":")
        return f"{kind.lower()}:{index or 0}" if kind else None
    if device is not None and hasattr(device, "type"):  # torch.device
        return f"{device.type}:{device.index or 0}"
    return None
