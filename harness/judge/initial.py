"""The init pass: a framework's default initialisers, measured from its draws, against torch's and its own rule.

The status answers the user's question, as for the forward pass, against the reference: does this layer
start from what torch's would (`match`), or from another distribution (`mismatch` on the kernel, the
bias or both, diagnosed `initialiser` with the scales side by side)? Independently, the draws must follow
the framework's own documented rule (adapters/defaults.py): where they do not, the row fails whatever
the case expects (diagnosis `undocumented`). Both are Kolmogorov-Smirnov tests at distributions.ALPHA.
"""

from __future__ import annotations

import numpy as np

from ..adapters.defaults import REFERENCE_RULE, RULES, Rule
from ..adapters.registry import get_adapter
from ..model.distributions import ALPHA, fit, histogram, p_value
from ..model.schema import Case
from ..results.outcome import Outcome
from ..results.rows import Row
from .expected import expectation
from .judge import pass_row, verdict
from .verdict import verdict_of

PARTS = ("kernel", "bias")


def judge_init(case: Case, outcome: Outcome) -> Row:
    """The init row: the kernel's and bias's draws against torch's default and the framework's own."""
    rule = expectation(case, False, outcome.adapter, "init", outcome.status)
    row = pass_row(case, outcome, rule, "init")
    documented = True
    if outcome.status == "ran":
        samples = outcome.samples or {}
        name = get_adapter(outcome.adapter).initialiser_rule
        assert name is not None  # initial_program refuses an adapter without a documented rule
        own, reference = RULES[name](case), RULES[REFERENCE_RULE](case)
        wrong, differences, declared, undocumented, histograms = [], [], [], [], []
        for part, mine, theirs in zip(PARTS, own, reference):
            values = samples.get(part)
            if values is None or mine is None or theirs is None:
                continue
            measured = fit(values)
            p_theirs = p_value(values, theirs.distribution)
            p_mine = p_theirs if mine.distribution == theirs.distribution else p_value(values, mine.distribution)
            setattr(row, f"init_{part}", f"{measured.text()}{implied_fan(mine, measured.family, measured.scale)}")
            setattr(row, f"init_{part}_p", p_theirs)
            declared.append(f"{part} {mine.text()} (KS p {p_mine:.3g})")
            histograms.append(f"{part}={histogram(values)}")
            if not follows(measured.family, p_theirs, theirs):
                wrong.append(part)
                differences.append(f"{part} {measured.text()} where torch draws {theirs.distribution.text()}"
                                   + scale_ratio(measured.family, measured.scale, theirs))
            if not follows(measured.family, p_mine, mine):
                undocumented.append(f"{part} {measured.text()} is not its documented {mine.text()} (KS p {p_mine:.3g})")
        counts = {part: samples[part].size for part in PARTS if part in samples}
        row.init_declared, row.init_histogram = "; ".join(declared), ";".join(histograms)
        row.init_samples = ", ".join(f"{n} {part} values" for part, n in counts.items())
        row.status, row.mismatch_on = ("mismatch", ";".join(wrong)) if wrong else ("match", None)
        if undocumented:
            documented = False
            row.diagnosis, row.diagnosis_detail = "undocumented", "; ".join(undocumented)
        elif differences:
            row.diagnosis, row.diagnosis_detail = "initialiser", "; ".join(differences)
    row.passed = verdict(row, rule, outcome) and documented
    row.verdict = verdict_of(row.passed, row.status, False)
    return row


def follows(family: str, p: float, rule: Rule) -> bool:
    """The draws are the rule's: the same family (a constant: every value equal to it) and KS p >= ALPHA."""
    return (family == rule.family or rule.distribution.scale == 0) and p >= ALPHA


def implied_fan(rule: Rule, family: str, scale: float) -> str:
    """`; fan_in 144.1`: the fan the framework's own formula gives for the measured scale."""
    if family != rule.family or rule.family == "constant":
        return ""
    fan = rule.fan_of_scale(scale)
    return f"; {rule.fan_name.split(' = ')[0]} {fan:.4g}" if np.isfinite(fan) else ""


def scale_ratio(family: str, scale: float, reference: Rule) -> str:
    other = reference.distribution
    if family != other.family or other.scale == 0:
        return ""
    return f" (scale x{scale / other.scale:.3g})"
