"""The case-file JSON schema, for editors (`python -m harness schema`): the case model's own
schema with the registered adapter names, which only the case-file layer knows."""

from __future__ import annotations

from typing import Any

from ..adapters.registry import adapter_names
from ..model.expectation import expectation_json_schema
from ..model.schema import KERAS_ALIASES, Conv


def json_schema() -> dict[str, Any]:
    """The case-file JSON schema (for editors), with adapter names from the registry."""
    conv = Conv.model_json_schema()
    props: dict[str, Any] = dict(conv["properties"])
    names = list(adapter_names())
    props["adapters"] = {"type": "array", "items": {"enum": names}}
    expect_map: dict[str, Any] = {"type": "object", "additionalProperties": False,
                  "properties": {name: expectation_json_schema() for name in names}}
    rule = {**expect_map, "properties": {**expect_map["properties"], "when": {"type": "object"}}}
    props["expect"] = {"oneOf": [expect_map, {"type": "array", "items": rule}]}
    props["matrix"] = {"type": "object", "additionalProperties": {"type": "array", "minItems": 1}}
    props["exclude"] = {"type": "array", "items": {"type": "object"}}
    for alias, field in KERAS_ALIASES.items():
        props[alias] = {**props[field], "description": f"alias of {field}"}
    entry = {"type": "object", "additionalProperties": False, "required": ["id"], "properties": props}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "conv-harness case file",
        "type": "object", "additionalProperties": False, "required": ["cases"],
        "properties": {"defaults": {"type": "object"}, "cases": {"type": "array", "items": {"$ref": "#/$defs/case"}}},
        "$defs": {**conv.get("$defs", {}), "case": entry},
    }
