"""What running one case in one adapter gave, before any judgement: the output and the outcome."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..adapters.program import Output
from ..model import geometry


@dataclass(frozen=True)
class Outcome:
    """What running one case in one adapter gave, before any judgement."""

    adapter: str
    status: str  # ran | error | unsupported | skipped
    output: Output | None = None
    realization: str | None = None
    param_count: int | None = None
    pads: geometry.Pads | None = None
    error_type: str | None = None
    error_message: str | None = None
    seconds: float | None = None
    version: str | None = None
    precision: str | None = None  # what the framework was allowed: the case dtype, or tf32
    device: str | None = None
    gradients: dict[str, np.ndarray] | None = None  # backward: dx, dw, db in the neutral layouts, float64
    backward: Outcome | None = None  # a grad case's backward pass, run by the worker after the forward one
    samples: dict[str, np.ndarray] | None = None  # init: the kernel's and the bias's default draws, flattened
    init: Outcome | None = None  # an init case's init pass, run by the worker after the others
    stage: str | None = None  # a route's: build, convert or run, where it failed or how far it got

    def for_passes(self, grad: bool, init: bool) -> Outcome:
        """This forward outcome with one for each further pass the case has: where a pass has none (the
        framework refused before any call, the worker crashed or timed out), that refusal is the pass's
        too; a forward pass that ran but left a pass without an outcome is the harness's error."""
        if self.status == "ran":
            lost = Outcome(self.adapter, "error", error_type="HarnessError",
                           error_message="the worker returned no outcome for this pass")
        else:
            lost = replace(self, output=None, pads=None, param_count=None, backward=None, init=None)
        return replace(self, backward=(self.backward or lost) if grad else self.backward,
                       init=(self.init or lost) if init else self.init)
