"""Safe YAML loading that remembers where every key and list item was written.

Error messages must point at `file:line` of the offending key or item, so the loader
returns mappings and sequences that carry their own line numbers (1-based). Only the
safe subset of YAML is accepted: no object tags, and a key written twice in one
mapping is an error rather than a silent overwrite (a key brought in by a merge, `<<: *base`,
is overridden by the mapping's own, as YAML says).

A case file is untrusted input with a work budget: its size, how many values it expands to
and how much text (aliases count each time they are used, so an alias bomb is refused before
anything walks it)
and how deeply it nests are checked on the composed node graph, before construction; a value
that cannot be constructed (`2001-13-45` read as a date, a 5000-digit integer) is a problem at
its line, never a traceback. Dates are not read as dates: `doc: 2001-12-14` is text.
"""

from __future__ import annotations

from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_BYTES = 16 * 2**20  # a case file larger than this is not a case file
MAX_NODES = 200_000  # values a document expands to, every use of an alias counted
MAX_DEPTH = 64  # nesting of lists and mappings
MAX_TEXT = 4 * MAX_BYTES  # characters a document expands to (a long `doc:` used by alias a thousand times)
MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlProblem(Exception):
    """A document that is not well-formed YAML; carries the 1-based line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class LineDict(dict[Any, Any]):
    """A mapping that knows its own line and the line of each of its keys."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A sequence that knows its own line and the line of each of its items."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: Any) -> int:
        if isinstance(index, int) and 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


class _LineLoader(_Loader):  # type: ignore[misc, valid-type]
    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (YamlProblem, yaml.YAMLError):
            raise
        except Exception as exc:  # e.g. int() of 5000 digits: the value's line, not a traceback
            raise YamlProblem(node.start_mark.line + 1, f"cannot read this value: {exc}") from None


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> LineDict:
    own = sum(1 for key_node, _ in node.value if key_node.tag != MERGE_TAG)
    loader.flatten_mapping(node)  # merged pairs first, then the mapping's own
    merged = len(node.value) - own
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    written: set[Any] = set()
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:
            raise YamlProblem(line, "a mapping key must be a plain value") from None
        if index >= merged:
            if key in written:
                raise YamlProblem(
                    line, f"key '{key}' is written twice (first at line {result.key_lines[key]})"
                )
            written.add(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: Any, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.constructor.SafeConstructor.construct_yaml_str)


def _check_budget(root: yaml.Node) -> None:
    """Count the values the document expands to and its depth, on the node graph: an alias is the
    same node object, so each distinct node is sized once and the count cannot blow up here."""
    size: dict[int, int] = {}
    chars: dict[int, int] = {}
    depth: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in size:
            continue
        children = [] if isinstance(node, yaml.ScalarNode) else \
            [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else list(node.value)
        if not children_done:
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in size)
            continue
        size[id(node)] = 1 + sum(size.get(id(c), 0) for c in children)
        chars[id(node)] = len(node.value) if isinstance(node, yaml.ScalarNode) else \
            sum(chars.get(id(c), 0) for c in children)
        depth[id(node)] = 1 + max((depth.get(id(c), 0) for c in children), default=0)
        line = node.start_mark.line + 1
        if chars[id(node)] > MAX_TEXT:
            raise YamlProblem(line, f"this value expands to more than {MAX_TEXT // 2**20} MiB of text (aliases "
                                    "count every time they are used): not a case file")
        if depth[id(node)] > MAX_DEPTH:
            raise YamlProblem(line, f"the document nests more than {MAX_DEPTH} lists or mappings deep")
        if size[id(node)] > MAX_NODES:
            raise YamlProblem(line, f"this value expands to more than {MAX_NODES:,} values (aliases count "
                                    "every time they are used): not a case file")


def load_yaml(text: str) -> Any:
    """Parse one YAML document; raise YamlProblem with the line of the first fault."""
    if len(text) > MAX_BYTES:
        raise YamlProblem(1, f"the file is larger than {MAX_BYTES // 2**20} MiB: not a case file")
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_budget(node)
        return loader.construct_document(node)
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlProblem(line, f"YAML syntax: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, f"YAML: {exc}") from None
    finally:
        loader.dispose()


def line_at(root: Any, loc: tuple[Any, ...], default: int) -> int:
    """The line of the deepest element of `loc` (a path of keys/indices) that exists."""
    line, node = default, root
    for part in loc:
        if isinstance(node, LineDict) and part in node or isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.line_of(part), node[part]
        else:
            break
    return line
