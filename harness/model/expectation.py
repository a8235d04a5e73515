"""What a case file says an adapter does on a case: the `expect:` entry, keyed per pass."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

STATUSES: tuple[str, ...] = ("match", "mismatch", "error", "unsupported", "skipped")
PASSES: tuple[str, ...] = ("forward", "backward", "init")
Status = Literal["match", "mismatch", "error", "unsupported", "skipped"]


class Expectation(BaseModel):
    """What one adapter does on a case; `error_type` and `message` (a regex) pin an error;
    `pass` limits it to the forward or the backward pass (both by default: a refused forward
    pass leaves no gradient either), or names the init pass, which only `pass: init` covers."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    status: Status
    reason: str | None = None
    error_type: str | None = None
    message: str | None = None
    pass_: Literal["forward", "backward", "init"] | None = Field(default=None, alias="pass")  # None: forward, backward

    def covers(self, pass_: str) -> bool:
        return self.pass_ == pass_ or (self.pass_ is None and pass_ != "init")

    @field_validator("message")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        import re

        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value


def expect_key(adapter: str, pass_: str) -> str:
    """Case.expect is keyed by adapter for the forward pass, `adapter:backward` for the gradients, `adapter:init`
    for the initialisers."""
    return adapter if pass_ == "forward" else f"{adapter}:{pass_}"


def expectation_json_schema() -> dict[str, Any]:
    return {"oneOf": [
        {"enum": list(STATUSES)},
        {"type": "object", "additionalProperties": False, "required": ["status"],
         "properties": {"status": {"enum": list(STATUSES)}, "reason": {"type": "string"},
                        "error_type": {"type": "string"}, "message": {"type": "string"},
                        "pass": {"enum": list(PASSES)}}},
    ]}
