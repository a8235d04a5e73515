"""The parent's side of a pair: each case's data, reference and bound made once and shared by its
adapters, the reference gradients when a backward outcome arrives, and every outcome judged into
rows, guarded so that a failure of the harness's own judging is that pair's row, not the run's end.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..adapters.errors import describe_error
from ..cases.loading import Case
from ..judge.initial import judge_init
from ..judge.judge import judge, judge_backward
from ..model.data import Tensors
from ..results.outcome import Outcome
from ..results.rows import Row
from ..truth import deadline
from ..truth.gradients import Gradient, cotangent, reference_gradients
from ..truth.prepare import prepare
from ..truth.reference import Reference


@dataclass
class Made:
    """What the parent made for one case: reference and bound, and for a grad case the reference
    gradients (made when the first backward outcome arrives)."""

    ref: Reference
    bound: np.ndarray | None
    tensors: Tensors | None = None
    grads: dict[str, Gradient] | None = None

    def gradients(self, case: Case) -> dict[str, Gradient] | None:
        if self.grads is None and self.tensors is not None and self.ref.out is not None:
            g = cotangent(case, self.ref.out.shape, case.seed)
            self.grads = reference_gradients(case, self.tensors.input, self.tensors.weights, g, self.tensors.pointwise)
        return self.grads


@dataclass
class Prepared:
    """Each case's reference and bound, made once and dropped when its last adapter reported."""

    remaining: dict[str, int] = field(default_factory=dict)
    made: dict[str, Made | Outcome] = field(default_factory=dict)
    retain: int = 0  # finished cases kept anyway (pytest asks for one pair of a case at a time)
    timeout: float = math.inf  # for the parent's own float64 work on one case (deadline.within)

    def get(self, case: Case) -> Made | Outcome:
        if case.id not in self.made:
            try:
                with deadline.within(self.timeout):
                    tensors, ref, bound = prepare(case)
                self.made[case.id] = Made(ref, bound, tensors)
            except Exception as exc:  # the case's data or reference failed: its rows say so, the run goes on
                kind, message = _described(exc)
                self.made[case.id] = Outcome("", "error", error_type=kind, error_message=f"preparing the case: {message}")
        return self.made[case.id]

    def rows(self, case: Case, outcome: Outcome) -> list[Row]:
        """The forward row, for a grad case the backward row, for an init case the init row, of one outcome."""
        made = self.get(case)
        outcome = outcome.for_passes(case.grad, case.init)  # one from a crashed or timed-out worker has none
        passes = ["forward"] + (["backward"] if case.grad else [])
        if isinstance(made, Outcome):
            rows = [refused(case, Outcome(outcome.adapter, "error", error_type=made.error_type,
                                          error_message=made.error_message), p) for p in passes]
        else:
            with deadline.within(self.timeout):  # the diagnosis' other references
                rows = [_guarded(case, outcome, lambda: judge(case, made.ref, outcome, made.bound, made.tensors))]
            if len(passes) > 1:
                assert outcome.backward is not None
                backward = outcome.backward
                grads = None
                if backward.status == "ran":
                    try:
                        with deadline.within(self.timeout):
                            grads = made.gradients(case)
                    except Exception as exc:  # reference gradients failed: the backward row says so
                        kind, message = _described(exc)
                        backward = Outcome(outcome.adapter, "error", error_type=kind,
                                           error_message=f"reference gradients: {message}")
                rows.append(_guarded(case, backward, lambda: judge_backward(case, bool(made.ref.invalid), grads,
                                                                            backward, made.ref.shape), "backward"))
        if outcome.init is not None:  # an init case's: the initialisers need no reference output
            init = outcome.init
            rows.append(_guarded(case, init, lambda: judge_init(case, init), "init"))
        self.remaining[case.id] -= 1
        if self.remaining[case.id] == 0:
            finished = [key for key in self.made if self.remaining.get(key, 0) == 0]
            for key in finished[: max(0, len(finished) - self.retain)]:
                self.made.pop(key, None)
        return rows


def _described(exc: Exception) -> tuple[str, str]:
    """describe_error, with the harness's own overrun named as the Timeout it is."""
    return ("Timeout", str(exc)) if isinstance(exc, deadline.Overrun) else describe_error(exc)


def _guarded(case: Case, outcome: Outcome, judging: Callable[[], Row], pass_: str = "forward") -> Row:
    """The judged row, or, when judging or diagnosis itself fails, that pair's row says so (a
    `HarnessError`, failing): one pair never ends the run."""
    try:
        return judging()
    except Exception as exc:
        kind, message = describe_error(exc)
        row = refused(case, Outcome(outcome.adapter, "error", error_type="HarnessError",
                                    error_message=f"judging this pair failed ({kind}: {message}); the framework "
                                                  f"said {outcome.status}", version=outcome.version), pass_)
        row.passed = False
        return row


def refused(case: Case, outcome: Outcome, pass_: str = "forward") -> Row:
    """A row of one pass for a pair that never reached a framework (too large, unpreparable)."""
    if pass_ == "init":
        return judge_init(case, outcome)
    return judge_backward(case, False, None, outcome) if pass_ == "backward" else judge(case, Reference(), outcome)
