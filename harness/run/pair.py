"""One case in one adapter, in this process: what every worker runs, and what adapter tests call.

Whatever one framework raises on one case becomes that pair's `error` outcome; the pads are
measured by running the same program on probe operands. Outcomes are frozen: each step makes
the next one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..adapters.base import Adapter
from ..adapters.errors import Unsupported, describe_error
from ..adapters.program import Realised, compiled
from ..adapters.registry import get_adapter, required_frameworks
from ..adapters.route import Route
from ..cases.loading import Case, adapters_for
from ..judge.judge import judge
from ..model import geometry, ops
from ..model.data import Tensors, probe_tensors
from ..model.distributions import draws
from ..quiet import captured
from ..results.outcome import Outcome
from ..results.rows import Row
from ..truth.gradients import cotangent
from ..truth.prepare import prepare


def availability(name: str) -> Outcome | None:
    """Why an adapter cannot run at all (not installed: skipped, or an error when required), else None.
    Checked without importing anything, so the parent starts no worker for it."""
    adapter = get_adapter(name)
    if adapter.available():
        return None
    missing = " and ".join(adapter.requires) + (" is" if len(adapter.requires) == 1 else " are")
    if name in required_frameworks():
        return Outcome(name, "error", error_type="FrameworkMissing",
                       error_message=f"{missing} not installed but HARNESS_FRAMEWORKS requires {name}")
    return Outcome(name, "skipped", error_message=f"{missing} not installed")


def _ready(name: str) -> tuple[Adapter | None, Outcome | None]:
    """The adapter with its framework loaded, or the outcome that says why not."""
    refusal = availability(name)
    if refusal is not None:
        return None, refusal
    adapter = get_adapter(name)
    try:
        with captured(name):
            adapter.ensure_setup()
    except Exception as exc:  # a broken install: every pair of this adapter says so
        kind, message = describe_error(exc)
        return None, Outcome(name, "error", error_type=kind, error_message=f"setting up {name}: {message}")
    return adapter, None


def run_adapter(name: str, case: Case, tensors: Tensors, pads: bool = True) -> Outcome:
    """The forward outcome; a grad case's backward one rides along in `backward`, an init case's in `init`.
    `pads=False` leaves the pads unmeasured (the fuzzer's first look: it measures those of the pairs that differ)."""
    adapter, refusal = _ready(name)
    if adapter is None:
        assert refusal is not None
        outcome = refusal
    else:
        with captured(name):  # frameworks warn about odd configurations; the row says what happened
            outcome = _run(adapter, case, tensors, pads)
    if case.init and adapter is not None:
        with captured(name):
            outcome = replace(outcome, init=_initial(adapter, case))
    return outcome.for_passes(case.grad, case.init)  # no forward pass, no gradient: the same refusal


def _initial(adapter: Adapter, case: Case) -> Outcome:
    """The init pass: the case's layer built with the framework's defaults as often as the sample sizes need
    (distributions.draws); its draws ride back as samples."""
    outcome = Outcome(adapter.name, "ran", realization="native", version=adapter.version(),
                      device=adapter.device_name(), precision=case.dtype)
    start = time.perf_counter()
    try:
        program = compiled(adapter.initial_program(case))
        kernels, biases = draws(math.prod(ops.weight_shape(case)), case.out_channels if case.bias else 0)
        kernel, bias = program.namespace["initial_parameters"](kernels, biases, case.seed)
        samples = {"kernel": np.asarray(kernel, np.float64)}
        if bias is not None:
            samples["bias"] = np.asarray(bias, np.float64)
        outcome = replace(outcome, samples=samples)
    except Exception as exc:
        outcome = _failed(outcome, exc)
    return replace(outcome, seconds=round(time.perf_counter() - start, 6))


def _failed(outcome: Outcome, exc: Exception) -> Outcome:
    """`unsupported` (the adapter knew before calling) or the framework's own `error`."""
    if isinstance(exc, Unsupported):
        return replace(outcome, status="unsupported", error_message=str(exc), realization=None)
    kind, message = describe_error(exc)
    return replace(outcome, status="error", error_type=kind, error_message=message)


def _backward(adapter: Adapter, case: Case, realised: Realised, tensors: Tensors, shape: tuple[int, ...]) -> Outcome:
    """dL/dx, dL/dw, dL/db for L = sum(y * g) through the framework's own autodiff, on the same realisation."""
    outcome = Outcome(adapter.name, "ran", realization=realised.plan.realization, version=adapter.version(),
                      device=adapter.device_name(), precision=adapter.allowed_precision(case))
    spatial = ops.output_spatial(case)
    g = cotangent(case, (case.batch_size, case.out_channels, *spatial) if spatial else shape, case.seed)
    start = time.perf_counter()
    try:
        outcome = replace(outcome, gradients=realised.gradients(tensors, g))
    except Unsupported as exc:
        outcome = _failed(outcome, Unsupported(f"{adapter.name} {exc}"))
    except Exception as exc:
        outcome = _failed(outcome, exc)
    return replace(outcome, seconds=round(time.perf_counter() - start, 6))


def _run(adapter: Adapter, case: Case, tensors: Tensors, pads: bool) -> Outcome:
    outcome = Outcome(adapter.name, "ran", version=adapter.version())
    start = time.perf_counter()
    realised: Realised | None = None
    try:
        outcome = replace(outcome, device=adapter.device_name(), precision=adapter.allowed_precision(case))
        plan = adapter.plan(case)
        outcome = replace(outcome, realization=plan.realization)
        realised = adapter.realise(case, plan)
        output = realised(tensors)
        outcome = replace(outcome, output=output, param_count=realised.param_count,
                          device=realised.placed or outcome.device)  # asked of the result, where the framework tells
    except Exception as exc:
        outcome = _failed(outcome, exc)
    outcome = replace(outcome, seconds=round(time.perf_counter() - start, 6), stage=_stage(adapter, outcome, realised))
    if outcome.status != "ran" or realised is None:
        return outcome
    if pads:
        outcome = replace(outcome, pads=measure_pads(adapter, case, realised))
    if case.grad:
        outcome = replace(outcome, backward=_backward(adapter, case, realised, tensors, output.values.shape))
    return outcome


def _stage(adapter: Adapter, outcome: Outcome, realised: Realised | None) -> str | None:
    """A route's stage reached; one whose program failed as it was set up failed building its source model."""
    if realised is not None:
        return realised.stage()
    return "build" if isinstance(adapter, Route) and outcome.realization is not None else None


def measure_pads(adapter: Adapter, case: Case, realised: Realised) -> geometry.Pads | None:
    """Run the same realisation on probe operands (zero padding mode) and read the pads or crops.

    The first tap first; only when it read no input at all (a kernel larger than its input)
    other taps are tried, with the same probe realisation.
    """
    first = geometry.probe_taps(case.kernel_size)
    probe = probe_tensors(case, first[0])
    if probe is None or not adapter.probes(realised.plan):
        return None
    probe_case = case.model_copy(update={"dtype": probe.input.dtype.name, "padding_mode": "zeros",
                                         "batch": probe.input.shape[0]})
    try:
        same = probe_case.dtype == case.dtype and case.padding_mode == "zeros" and probe_case.batch == case.batch
        runner = realised if same else adapter.realise(probe_case, realised.plan)
        for tap in first:
            probe = probe_tensors(case, tap)
            assert probe is not None
            plane = runner(probe).values[0, 0]
            pads = geometry.measured_pads(plane, case, ops.effective_tap(case, tap))
            if pads is not None:
                return pads
    except Exception:  # the case itself ran; a probe that cannot run leaves the pads empty
        return None
    return None


def run_case(case: Case, only: Sequence[str] | None = None) -> list[Row]:
    tensors, ref, bound = prepare(case)
    return [judge(case, ref, run_adapter(name, case, tensors), bound) for name in adapters_for(case, only)]
