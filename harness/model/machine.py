"""Facts of this machine that decide what a framework does, read without importing one.

Some behaviour depends on the CPU, not on the case: TensorFlow's oneDNN bfloat16 kernels exist only
where the CPU has AVX512F (TensorFlow's `IsBF16SupportedByOneDNNOnThisCPU`), and it falls back to
kernels with other limits elsewhere. A case records both with `expect:` rules whose `when:` names
CPU flags as /proc/cpuinfo spells them: `when: {cpu: {avx512f: false}}` (docs/cases.md).
"""

from __future__ import annotations

import functools
from pathlib import Path

MACHINE_KEYS = ("cpu",)  # `when:` keys that name the machine, beside the case fields


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (x86 `flags`, Arm `Features`); empty where /proc/cpuinfo is missing."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def matches(key: str, expected: object) -> bool:
    """A machine condition of `when:`: `cpu: {flag: true|false, ...}` holds when every flag's
    presence on this CPU is as written."""
    assert key == "cpu" and isinstance(expected, dict)
    return all((flag in cpu_flags()) == bool(present) for flag, present in expected.items())
