"""An outcome carries one for every pass its case has, whatever ended the forward pass."""

from __future__ import annotations

from harness.results.outcome import Outcome


def test_a_refusal_is_every_pass_s_refusal() -> None:
    crashed = Outcome("torch", "error", error_type="Crashed", error_message="the worker died")
    both = crashed.for_passes(grad=True, init=True)
    assert both.backward is not None and both.init is not None
    assert (both.backward.status, both.backward.error_type, both.init.error_type) == ("error", "Crashed", "Crashed")
    assert crashed.for_passes(grad=False, init=False) == crashed


def test_a_pass_lost_after_a_forward_run_is_the_harness_s_error() -> None:
    ran = Outcome("torch", "ran", backward=Outcome("torch", "ran"))
    out = ran.for_passes(grad=True, init=True)
    assert out.backward is ran.backward
    assert out.init is not None and (out.init.status, out.init.error_type) == ("error", "HarnessError")
