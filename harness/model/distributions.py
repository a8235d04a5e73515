"""The distributions default initialisers draw from, measured from samples: family, scale, a KS test.

Every framework's default is zero-mean and one of four families: `uniform` U(-b, b) (scale: the bound
b), `normal` N(0, s^2) and `truncated_normal`, a normal cut at two standard deviations of the
untruncated one and redrawn (Keras' TruncatedNormal, jax's truncated_normal, torch's trunc_normal_
at a=-2s0, b=2s0; scale: its own standard deviation s = 0.8796 s0), and `constant` (scale: the
value). `fit` names the family from the samples alone (the smallest Kolmogorov-Smirnov distance to
each family fitted to them); `p_value` tests samples against a declared distribution.

The test: one-sample Kolmogorov-Smirnov at ALPHA = 1e-6 (a false alarm once in a million tests), on
at least KERNEL_SAMPLES kernel values and BIAS_SAMPLES bias values. The critical distance is about
2.69/sqrt(n): 0.0060 for 200,000 values, 0.0156 for 30,000. A scale 5% off moves a uniform's CDF by
0.0238, a normal's by 0.0118 and a truncated normal's by 0.0124 (`detectable`): at these sizes a 5%
difference in the kernel's scale is always found, and in a uniform bias's (the only non-constant
bias default: torch's, Equinox's); tests/model/test_distributions.py draws them, p below 1e-12. A
normal bias of 30,000 values would need about 8%. A layer of fewer than 30 output channels
stops at MAX_DRAWS biases, so fewer values and a weaker bias test: its row says how many it had.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

ALPHA = 1e-6
KERNEL_SAMPLES = 200_000
BIAS_SAMPLES = 30_000
MAX_DRAWS = 1000  # biases drawn per case and adapter at most: one of few channels gets fewer samples
TRUNCATED_STD = 0.87962566103423978  # the standard deviation of a standard normal cut at +-2


@dataclass(frozen=True)
class Distribution:
    family: str
    scale: float

    def frozen(self) -> Any:
        """The scipy.stats distribution (not for constant)."""
        from scipy import stats

        if self.family == "uniform":
            return stats.uniform(loc=-self.scale, scale=2 * self.scale)
        if self.family == "normal":
            return stats.norm(scale=self.scale)
        return stats.truncnorm(-2, 2, scale=self.scale / TRUNCATED_STD)

    def text(self) -> str:
        s = f"{self.scale:.4g}"
        return {"uniform": f"U(±{s})", "normal": f"N(0, {s}²)", "truncated_normal": f"N(0, {s}²) cut at ±2σ₀",
                "constant": s}[self.family]


def p_value(samples: np.ndarray, declared: Distribution) -> float:
    """The KS test's p-value of the samples against `declared` (a constant: 1 when every sample is it, else 0)."""
    from scipy import stats

    if samples.size == 0:
        return 1.0
    if declared.family == "constant" or declared.scale == 0:
        return float(np.all(samples == declared.scale if declared.family == "constant" else samples == 0))
    return float(stats.kstest(samples, declared.frozen().cdf).pvalue)


def fit(samples: np.ndarray) -> Distribution:
    """The family and scale the samples show, from them alone: constant when all are equal, else the zero-mean
    family with the smallest KS distance once fitted (uniform: the largest |x| widened by 1/n; the normals:
    the samples' standard deviation)."""
    from scipy import stats

    if samples.size == 0 or np.all(samples == samples.flat[0]):
        return Distribution("constant", float(samples.flat[0]) if samples.size else 0.0)
    n = samples.size
    std = float(np.sqrt(np.mean(samples**2)))
    candidates = [Distribution("uniform", float(np.abs(samples).max()) * (n + 1) / n),
                  Distribution("normal", std), Distribution("truncated_normal", std)]
    return min(candidates, key=lambda d: float(stats.kstest(samples, d.frozen().cdf).statistic))


def critical_distance(n: int) -> float:
    """The KS distance beyond which the test rejects at ALPHA (asymptotic)."""
    return math.sqrt(-math.log(ALPHA / 2) / 2) / math.sqrt(max(n, 1))


def detectable(family: str, ratio: float = 1.05) -> float:
    """The largest gap between the CDFs of a family at scale 1 and at scale `ratio`: the KS distance a
    scale difference of that size shows."""
    x = np.linspace(-3, 3, 60001)
    one, other = Distribution(family, 1.0).frozen(), Distribution(family, ratio).frozen()
    return float(np.abs(one.cdf(x) - other.cdf(x)).max())


def draws(kernel_size: int, bias_size: int) -> tuple[int, int]:
    """How many kernels and biases to draw (layers to build) so that each reaches its sample size; a bias of
    few channels stops at MAX_DRAWS (its row says how many values it had)."""
    kernels = max(1, math.ceil(KERNEL_SAMPLES / max(kernel_size, 1)))
    biases = min(MAX_DRAWS, math.ceil(BIAS_SAMPLES / bias_size)) if bias_size else 0
    return kernels, biases


def histogram(samples: np.ndarray, bins: int = 24) -> str:
    """Counts over [-m, m], m the largest |x|, as `m:c1 c2 ...` (the report draws it)."""
    m = float(np.abs(samples).max()) if samples.size else 0.0
    if m == 0:
        return f"0:{samples.size}"
    counts, _ = np.histogram(samples, bins=bins, range=(-m, m))
    return f"{m:.6g}:" + " ".join(str(int(c)) for c in counts)
