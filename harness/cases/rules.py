"""`expect:` rules of a case file: the short form (adapter -> status) and the list of rules with `when:`
(case fields, or machine facts such as CPU flags), read with their lines and resolved per case."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..adapters.registry import adapter_names
from ..model import machine
from ..model.expectation import Expectation
from ..model.machine import MACHINE_KEYS
from ..model.schema import CONV_FIELDS, KERAS_ALIASES
from ..problems import unknown_key
from .collector import Collector, line_in
from .yamlsource import LineDict, LineList


@dataclass(frozen=True)
class Rule:
    """One `expect:` rule: it applies when every `when` key equals the case's value."""

    when: dict[str, Any]
    expect: dict[str, Expectation]


class RuleReader(Collector):
    """Reads `expect:` rules."""

    def rules(self, spec: Any, where: str) -> list[Rule]:
        """`expect:` in either form, as rules; the short form is one rule without `when`."""
        if spec is None:
            return []
        value, parent, key = spec
        if isinstance(value, LineDict):
            return self.rule(value, where, "expect", allow_when=False)
        if not isinstance(value, LineList):
            self.problem(parent.line_of(key), f"{where}: expect: expected a mapping adapter -> status, or a list of rules")
            return []
        rules: list[Rule] = []
        for index, item in enumerate(value):
            if isinstance(item, LineDict):
                rules += self.rule(item, where, f"expect[{index}]", allow_when=True)
            else:
                self.problem(value.line_of(index), f"{where}: expect[{index}]: expected a mapping with 'when:' and adapters")
        return rules

    def rule(self, item: LineDict, where: str, prefix: str, allow_when: bool) -> list[Rule]:
        names = adapter_names()
        when: dict[str, Any] = {}
        expect: dict[str, Expectation] = {}
        problems_before = len(self.problems)
        for key, value in item.items():
            line = item.line_of(key)
            if key == "when" and allow_when and isinstance(value, LineDict):
                for field in value:
                    if field in MACHINE_KEYS:
                        self.machine_condition(value[field], value.line_of(field), f"{where}: {prefix}.when.{field}")
                    elif KERAS_ALIASES.get(field, field) not in CONV_FIELDS:
                        self.problem(value.line_of(field), f"{where}: {prefix}.when: "
                                     + unknown_key("field", field, (*CONV_FIELDS, *MACHINE_KEYS)))
                when = dict(value)
            elif key == "when" and allow_when:
                self.problem(line, f"{where}: {prefix}.when: expected a mapping field -> value")
            elif key in names:
                try:
                    expect[key] = Expectation.model_validate({"status": value} if isinstance(value, str) else value)
                except ValidationError as exc:
                    self.report(exc, functools.partial(line_in, value, line), where, f"{prefix}.{key}")
            else:
                allowed = (*names, "when") if allow_when else names
                self.problem(line, f"{where}: {prefix}: " + unknown_key("adapter", key, allowed)
                             + f" (registered: {', '.join(names)})")
        return [Rule(when, expect)] if len(self.problems) == problems_before else []

    def machine_condition(self, value: Any, line: int, where: str) -> None:
        """`cpu: {avx512f: false, ...}`: CPU flag names (as /proc/cpuinfo spells them) -> true or false."""
        if not isinstance(value, LineDict) or not value or not all(
                isinstance(flag, str) and isinstance(present, bool) for flag, present in value.items()):
            self.problem(line, f"{where}: expected a mapping of CPU flags to true or false, e.g. {{avx512f: false}}")


def when_matches(key: str, expected: Any, data: dict[str, Any]) -> bool:
    if key in MACHINE_KEYS:
        return machine.matches(key, expected)
    return bool(data.get(KERAS_ALIASES.get(key, key)) == expected)
