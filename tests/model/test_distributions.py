"""The init pass's statistics: the family named from samples alone, the KS test's false-alarm rate and power."""

from __future__ import annotations

import numpy as np
import pytest

from harness.model.distributions import (
    ALPHA,
    BIAS_SAMPLES,
    KERNEL_SAMPLES,
    MAX_DRAWS,
    TRUNCATED_STD,
    Distribution,
    critical_distance,
    detectable,
    draws,
    fit,
    histogram,
    p_value,
)

FAMILIES = ("uniform", "normal", "truncated_normal")


def sample(family: str, scale: float, n: int, seed: int = 0) -> np.ndarray:
    return np.asarray(Distribution(family, scale).frozen().rvs(n, random_state=np.random.default_rng(seed)))


@pytest.mark.parametrize("family", FAMILIES)
def test_fit_names_the_family_and_scale_from_the_samples(family: str) -> None:
    found = fit(sample(family, 0.3, KERNEL_SAMPLES))
    assert found.family == family and found.scale == pytest.approx(0.3, rel=0.01)


def test_fit_names_a_constant() -> None:
    assert fit(np.zeros(100)) == Distribution("constant", 0.0)
    assert fit(np.full(5, 0.25)) == Distribution("constant", 0.25)


def test_truncated_normal_is_cut_at_two_standard_deviations_of_the_untruncated_one() -> None:
    x = sample("truncated_normal", 1.0, 100_000)
    assert np.std(x) == pytest.approx(1.0, rel=0.01)  # the scale is the distribution's own deviation
    assert np.abs(x).max() <= 2 / TRUNCATED_STD and np.abs(x).max() > 0.99 * 2 / TRUNCATED_STD


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("ratio", [1.05, 1 / 1.05])
def test_a_five_percent_scale_difference_is_always_found(family: str, ratio: float) -> None:
    n = BIAS_SAMPLES if family == "uniform" else KERNEL_SAMPLES  # uniform biases: the smallest sample
    for seed in range(3):
        assert p_value(sample(family, ratio, n, seed), Distribution(family, 1.0)) < 1e-12


@pytest.mark.parametrize("family", FAMILIES)
def test_the_declared_distribution_itself_passes(family: str) -> None:
    """Under the null hypothesis the p-values are uniform: 40 draws all above ALPHA (each fails with 1e-6)."""
    ps = [p_value(sample(family, 0.7, 20_000, seed), Distribution(family, 0.7)) for seed in range(40)]
    assert min(ps) >= ALPHA and 0.2 < float(np.mean(ps)) < 0.8


def test_the_critical_distance_is_below_what_five_percent_moves() -> None:
    assert critical_distance(KERNEL_SAMPLES) == pytest.approx(0.00602, abs=1e-5)
    assert critical_distance(BIAS_SAMPLES) < detectable("uniform") == pytest.approx(0.0238, abs=1e-4)
    assert critical_distance(KERNEL_SAMPLES) < detectable("normal") == pytest.approx(0.0118, abs=1e-4)


def test_a_constant_passes_only_when_every_value_is_it() -> None:
    assert p_value(np.zeros(10), Distribution("constant", 0.0)) == 1.0
    assert p_value(np.array([0.0, 1e-9]), Distribution("constant", 0.0)) == 0.0


def test_draws_reach_the_sample_sizes_and_stop_at_the_cap() -> None:
    assert draws(4752, 33) == (43, 910)  # nn.Conv2d(16, 33, 3): 43 x 4752 >= 200,000; 910 x 33 >= 30,000
    assert draws(10, 3) == (20_000, MAX_DRAWS)
    assert draws(500_000, 0) == (1, 0)


def test_histogram_counts_over_the_largest_magnitude() -> None:
    assert histogram(np.array([-1.0, 0.5, 1.0]), bins=2) == "1:1 2"
    assert histogram(np.zeros(3)) == "0:3"
