"""One parsed case-file document -> expanded `Case`s and every `Problem`, with lines.

Never raises for bad input: problems are collected, so a file reports all its faults at
once. Defaults merge under each case, Keras aliases become canonical names, `matrix` expands
in the order written, `exclude` drops combinations and `expect` rules resolve per case.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..adapters.registry import adapter_names
from ..model.expectation import Expectation, expect_key
from ..model.geometry import output_padding_for
from ..model.schema import CONV_FIELDS, ENTRY_ONLY, KERAS_ALIASES, Case, Conv
from ..problems import Problem, closest, unknown_key
from .arrays import read_explicit
from .rules import Rule, RuleReader, when_matches
from .yamlsource import LineDict, LineList, line_at

CASE_KEYS = (*CONV_FIELDS, *ENTRY_ONLY, *KERAS_ALIASES)
NOT_IN_MATRIX = ("id", "doc", *ENTRY_ONLY)
MAX_CASES = 100_000  # expanded cases a matrix (and a file) may give, counted before expansion


def stable_seed(case_id: str) -> int:
    """A seed that depends on the id only, so re-runs and other machines agree."""
    return int.from_bytes(hashlib.sha256(case_id.encode()).digest()[:4], "big") & 0x7FFFFFFF


def format_value(value: Any) -> str:
    """A matrix value as it appears in an id: lists as 2x3, booleans lower-case."""
    if isinstance(value, list):
        return "x".join(format_value(v) for v in value)
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    return str(value)



class DocumentReader(RuleReader):
    """Reads one parsed document; collects problems instead of raising."""

    def read(self, doc: Any) -> tuple[list[Case], list[Problem]]:
        if doc is None:
            self.problem(1, "the file is empty: expected a mapping with 'cases:'")
            return [], self.problems
        if not isinstance(doc, LineDict) or "cases" not in doc:
            line = doc.line if isinstance(doc, (LineDict, LineList)) else 1
            self.problem(line, "expected a mapping with 'cases:' (a list of cases)")
            return [], self.problems
        for key in doc:
            if key not in ("defaults", "cases") and not str(key).startswith("x-"):  # x-...: anchors to merge
                self.problem(doc.line_of(key), unknown_key("top-level key", key, ["defaults", "cases"]))
        defaults = doc.get("defaults") or LineDict()
        if not isinstance(defaults, LineDict):
            self.problem(doc.line_of("defaults"), "defaults: expected a mapping of case fields")
            defaults = LineDict()
        defaults = self.canonical(defaults, "defaults", forbidden=("id",))
        entries = doc["cases"]
        if not isinstance(entries, LineList):
            self.problem(doc.line_of("cases"), "cases: expected a list of cases")
            return [], self.problems
        cases: list[Case] = []
        for index, entry in enumerate(entries):
            line = entries.line_of(index)
            if not isinstance(entry, LineDict):
                self.problem(line, f"cases[{index}]: expected a mapping with 'id:'")
                continue
            cases += self.expand(entry, defaults, line)
            if len(cases) > MAX_CASES:
                self.problem(line, f"the file expands to more than {MAX_CASES:,} cases: split it")
                return [], self.problems
        return cases, self.problems

    def canonical(self, raw: LineDict, where: str, forbidden: tuple[str, ...] = ()) -> dict[str, tuple[Any, LineDict, str]]:
        """Fields by canonical name -> (value, mapping it came from, spelling written)."""
        out: dict[str, tuple[Any, LineDict, str]] = {}
        for key, value in raw.items():
            name = KERAS_ALIASES.get(key, key)
            if key in forbidden:
                self.problem(raw.line_of(key), f"{where}: '{key}' cannot be given here")
            elif key not in CASE_KEYS:
                self.problem(raw.line_of(key), f"{where}: " + unknown_key("field", key, CASE_KEYS))
                meant = closest(key, CASE_KEYS)
                if meant is not None:
                    self.misspelt.add((where, KERAS_ALIASES.get(meant, meant)))
            elif name in out:
                self.problem(raw.line_of(key), f"{where}: '{out[name][2]}' and '{key}' are the same field; give one")
            else:
                out[name] = (value, raw, key)
        return out

    def expand(self, entry: LineDict, defaults: dict[str, Any], line: int) -> Iterator[Case]:
        base_id = entry.get("id")
        where = f"case '{base_id}'" if isinstance(base_id, str) else f"case at line {line}"
        own = self.canonical(entry, where)
        fields = {**defaults, **own}
        spec = fields.pop("matrix", None)
        matrix = self.matrix(spec, own, where)
        exclude = self.exclude(fields.pop("exclude", None), matrix, where)
        rules = self.rules(fields.pop("expect", None), where)
        problems_before = len(self.problems)
        combinations = math.prod(len(values) for _, values in matrix.values())
        if combinations > MAX_CASES:
            _, parent, key = spec
            self.problem(parent.line_of(key), f"{where}: matrix: {combinations:,} combinations, more than "
                                              f"{MAX_CASES:,}: split the case or narrow the matrix")
            return
        for combo in itertools.product(*(values for _, values in matrix.values())):
            assignment = {name: item for name, item in zip(matrix, combo)}
            if any(all(assignment[k][0] == v for k, v in ex.items()) for ex in exclude):
                continue
            case = self.validate(fields, matrix, assignment, rules, where, line)
            if case is not None and len(self.problems) == problems_before:
                yield case

    def matrix(self, spec: Any, own: dict[str, Any], where: str) -> dict[str, tuple[str, list[tuple[Any, int]]]]:
        if spec is None:
            return {}
        value, parent, key = spec
        if not isinstance(value, LineDict):
            self.problem(parent.line_of(key), f"{where}: matrix: expected a mapping field -> list of values")
            return {}
        out: dict[str, tuple[str, list[tuple[Any, int]]]] = {}
        for written, values in value.items():
            name = KERAS_ALIASES.get(written, written)
            line = value.line_of(written)
            if name in NOT_IN_MATRIX:
                self.problem(line, f"{where}: matrix: '{written}' cannot vary in a matrix")
            elif name not in CONV_FIELDS:
                self.problem(line, f"{where}: matrix: " + unknown_key("field", written, CONV_FIELDS))
            elif name in own:
                self.problem(line, f"{where}: matrix: '{written}' is also given directly in the case; give it once")
            elif not isinstance(values, LineList) or not values:
                self.problem(line, f"{where}: matrix.{written}: expected a non-empty list of values")
            else:
                out[name] = (written, [(v, values.line_of(i)) for i, v in enumerate(values)])
        return out

    def exclude(self, spec: Any, matrix: dict[str, Any], where: str) -> list[dict[str, Any]]:
        if spec is None:
            return []
        value, parent, key = spec
        if not isinstance(value, LineList):
            self.problem(parent.line_of(key), f"{where}: exclude: expected a list of mappings")
            return []
        out = []
        for index, item in enumerate(value):
            if not isinstance(item, LineDict):
                self.problem(value.line_of(index), f"{where}: exclude[{index}]: expected a mapping of matrix values")
                continue
            combo = {}
            for k, v in item.items():
                name = KERAS_ALIASES.get(k, k)  # either spelling of a matrix key
                if name in matrix:
                    combo[name] = v
                else:
                    written = [w for w, _ in matrix.values()]
                    self.problem(item.line_of(k), f"{where}: exclude: " + unknown_key("matrix key", k, written))
            out.append(combo)
        return out

    def validate(self, fields: dict[str, Any], matrix: dict[str, Any], assignment: dict[str, Any],
                 rules: list[Rule], where: str, line: int) -> Case | None:
        data = {name: value for name, (value, _, _) in fields.items()}
        data.update({name: value for name, (value, _) in assignment.items()})
        spelled = {name: written for name, (_, _, written) in fields.items()}
        spelled.update({name: matrix[name][0] for name in assignment})

        def where_is(loc: tuple[Any, ...]) -> int:
            name = loc[0] if loc else None
            if name in assignment:
                return int(assignment[name][1])
            if name in fields:
                value, parent, written = fields[name]
                return line_at(value, loc[1:], parent.line_of(written))
            return line

        try:
            conv = Conv.model_validate(data)
        except ValidationError as exc:
            self.report(exc, where_is, where, spelled=spelled)
            return None
        known = adapter_names()  # checked here, not in the case model: what is installed is the reader's business
        unknown = [(index, name) for index, name in enumerate(conv.adapters or ()) if name not in known]
        for index, name in unknown:
            self.problem(where_is(("adapters", index)), f"{where}: {spelled.get('adapters', 'adapters')}.{index}: "
                         + unknown_key("adapter", name, known) + f" (registered: {', '.join(known)})")
        conv, wrong = read_explicit(conv, Path(self.name).parent)
        for operand, message in wrong:
            self.problem(where_is(("data", operand)), f"{where}: data.{operand}: {message}")
        if conv.output_size is not None:  # it picks the output_padding, which the rest of the harness reads
            try:
                conv = conv.model_copy(update={"output_padding": output_padding_for(conv, conv.output_size)})
            except ValueError as exc:
                self.problem(where_is(("output_size",)), f"{where}: output_size: {exc}")
                return None
        if unknown or wrong:
            return None
        values = {matrix[name][0]: value for name, (value, _) in assignment.items()}
        suffix = ",".join(f"{k}={format_value(v)}" for k, v in values.items())
        case_id = f"{conv.id}[{suffix}]" if values else conv.id
        expect: dict[str, Expectation] = {}
        for rule in rules:
            if all(when_matches(k, v, data) for k, v in rule.when.items()):
                for adapter, rule_for in rule.expect.items():
                    for pass_ in conv.passes:
                        if rule_for.covers(pass_):
                            expect[expect_key(adapter, pass_)] = rule_for
        seed = conv.seed if conv.seed is not None else stable_seed(case_id)
        return Case.model_construct(  # conv is validated already; the rest is ours
            **{**dict(conv), "id": case_id, "seed": seed},
            file=self.name, line=line, values=values, expect=expect,
        )
