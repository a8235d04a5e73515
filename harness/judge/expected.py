"""Which rule a pair is judged by: the case's `expect:` entry, a route's source adapter's, or the default."""

from __future__ import annotations

from ..adapters.registry import builds_as
from ..model.expectation import Expectation, expect_key
from ..model.schema import Case


def expectation(case: Case, invalid: bool, adapter: str, pass_: str = "forward", status: str | None = None,
                stage: str | None = None) -> Expectation:
    """The case's rule for this pair (for a route that failed building its source model, the source adapter's:
    the same model, the same refusal), else the default: `match` (`error` for an invalid configuration),
    or, when the adapter declared the case unsupported before any framework call, `unsupported`
    (not applicable: a declared limitation is a fact, not a failure, unless a rule expects a run)."""
    source = builds_as(adapter) if stage == "build" else None
    rule = case.expect.get(expect_key(adapter, pass_))
    if rule is None and source is not None:
        rule = case.expect.get(expect_key(source, pass_))
    if rule is not None:
        return rule
    if status == "unsupported":
        return Expectation(status="unsupported")
    return Expectation(status="error" if invalid else "match")


def pinned_error(rule: Expectation) -> str | None:
    """The pinned error as text (`Type: /regex/`), or None when the rule pins none."""
    if rule.error_type is None and rule.message is None:
        return None
    return f"{rule.error_type or '*'}: /{rule.message or ''}/"
