"""The init row from hand-made draws (no framework): the status against torch's default, the framework's own
rule enforced, the numbers a user reads."""

from __future__ import annotations

import numpy as np
from helpers import make_case

from harness.judge.initial import judge_init
from harness.model.distributions import Distribution
from harness.results.outcome import Outcome

CASE = make_case(in_channels=16, out_channels=33, kernel_size=3, stride=2, input_size=[16, 16], init=True)


def draws(family: str, scale: float, n: int, seed: int) -> np.ndarray:
    return np.asarray(Distribution(family, scale).frozen().rvs(n, random_state=np.random.default_rng(seed)))


def outcome(adapter: str, kernel: np.ndarray, bias: np.ndarray | None) -> Outcome:
    samples = {"kernel": kernel} | ({} if bias is None else {"bias": bias})
    return Outcome(adapter, "ran", realization="native", samples=samples)


def test_torch_draws_match_torch() -> None:
    row = judge_init(CASE, outcome("torch", draws("uniform", 1 / 12, 200_000, 0), draws("uniform", 1 / 12, 30_000, 1)))
    assert (row.status, row.passed, row.pass_, row.diagnosis) == ("match", True, "init", None)
    assert row.init_kernel.startswith("U(±0.0833") and "fan_in 14" in row.init_kernel
    assert row.init_samples == "200000 kernel values, 30000 bias values"


def test_keras_glorot_and_zeros_mismatch_torch_as_documented() -> None:
    bound = np.sqrt(6 / 441)
    row = judge_init(CASE, outcome("keras", draws("uniform", bound, 200_000, 2), np.zeros(30_000)))
    assert (row.status, row.mismatch_on, row.diagnosis, row.passed) == ("mismatch", "kernel;bias", "initialiser", False)
    assert "scale x1.4" in row.diagnosis_detail and "bias 0 where torch draws U(±0.08333)" in row.diagnosis_detail
    assert "fan_in + fan_out 44" in row.init_kernel  # the fan the scale implies under glorot's formula


def test_draws_off_their_own_documented_rule_fail_whatever_is_expected() -> None:
    """torch's module drawing 5% wide: off torch's default and off its own rule: `undocumented`."""
    row = judge_init(CASE, outcome("torch", draws("uniform", 1.05 / 12, 200_000, 3), draws("uniform", 1 / 12, 30_000, 4)))
    assert (row.status, row.mismatch_on, row.diagnosis, row.passed) == ("mismatch", "kernel", "undocumented", False)


def test_resume_judges_init_rows_as_the_run_did() -> None:
    """rejudged keeps an undocumented row failing and needs no valid forward configuration."""
    from harness.judge.judge import rejudged

    bad = judge_init(CASE, outcome("torch", draws("uniform", 1.05 / 12, 200_000, 3), draws("uniform", 1 / 12, 30_000, 4)))
    assert rejudged(bad, CASE).passed is False
    invalid = make_case(in_channels=2, out_channels=3, kernel_size=3, input_size=[2, 2], init=True)
    good = judge_init(invalid, outcome("torch", draws("uniform", 1 / np.sqrt(18), 200_000, 5),
                                       draws("uniform", 1 / np.sqrt(18), 30_000, 6)))
    assert good.passed and rejudged(good, invalid).passed and rejudged(good, invalid).expected == "match"


def test_a_refusal_is_a_row_without_draws() -> None:
    row = judge_init(CASE, Outcome("jax", "unsupported", error_message="jax builds no layer of its own"))
    assert (row.status, row.expected, row.passed, row.init_kernel) == ("unsupported", "unsupported", True, None)
