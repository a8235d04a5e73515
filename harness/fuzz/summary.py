"""What a search hands back: the cases it wrote, the library's divergences it met again, and its throughput."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..results.rows import Row
from .kinds import SEVERITIES, describe, severity

MET_SHOWN = 10  # the library's divergences met again: the worst ten, then a count


@dataclass(frozen=True)
class Found:
    """A case file written, with the severity, the words of the kind that made it and its err_bound_ratio (0 where
    none is finite): finds rank by severity, then by how far out of bound."""

    path: Path
    severity: int
    what: str
    ratio: float = 0.0

    @classmethod
    def of(cls, path: Path, row: Row) -> Found:
        ratio = row.err_bound_ratio
        return cls(path, severity(row), describe(row), ratio if ratio is not None and math.isfinite(ratio) else 0.0)

    def rank(self) -> tuple[int, float]:
        return self.severity, -self.ratio


@dataclass(frozen=True)
class Search:
    """What a campaign did: the cases it wrote (worst first: by severity, then by ratio), the library's
    divergences it met again, and its throughput with the workers' time by adapter (where the time went)."""

    found: list[Found]
    met: dict[str, tuple[int, str, int]]  # a library case -> the severity, the words and the pairs it was met in
    cases: int
    pairs: int
    seconds: float
    spent: dict[str, float]

    def __str__(self) -> str:
        """The terminal summary: new kinds worst first, then what the library already explains, then where the
        time went (cases and pairs per second, the workers' time by adapter, largest first)."""
        lines = [f"{len(self.found)} new kind(s) of divergence, worst first",
                 *(f"  {f.path}  [{SEVERITIES[f.severity]}] {f.what}" for f in self.found)]
        if self.met:
            met = sorted(self.met.items(), key=lambda m: (m[1][0], -m[1][2]))
            lines.append(f"{len(met)} divergence(s) the case library records, met again, worst first (not new; the "
                         "case explains it):")
            lines += [f"  {case}  [{SEVERITIES[grade]}] ({count} pair{'s' * (count > 1)}) {what}"
                      for case, (grade, what, count) in met[:MET_SHOWN]]
            lines += [f"  and {len(met) - MET_SHOWN} more"] if len(met) > MET_SHOWN else []
        seconds, total = max(self.seconds, 1e-9), sum(self.spent.values()) or 1.0
        shares = ", ".join(f"{name} {100 * spent / total:.0f}%" for name, spent in
                           sorted(self.spent.items(), key=lambda item: -item[1]) if spent / total >= 0.005)
        lines.append(f"{self.cases} cases, {self.pairs} pairs in {self.seconds:.0f} s: {self.cases / seconds:.1f} "
                     f"cases/s, {self.pairs / seconds:.1f} pairs/s; the workers' time: {shares or 'none'}")
        return "\n".join(lines)
