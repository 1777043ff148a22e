"""What every request body shares: no control characters in any string.

A NUL cannot be stored in PostgreSQL text (it was a 500) and no field of ours means anything
with one; the other C0 controls (tab, LF and CR aside) only ever arrive by accident or attack.
Rejected with a 422 that names the field, before anything is written.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, field_validator

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAK = re.compile(r"[\t\n\r]")
CONTROL_MESSAGE = "must not contain control characters (such as NUL)"


def has_control_characters(value: Any) -> bool:
    if isinstance(value, str):
        return _CONTROL.search(value) is not None
    if isinstance(value, list | tuple):
        return any(has_control_characters(v) for v in value)
    if isinstance(value, dict):
        return any(has_control_characters(k) or has_control_characters(v) for k, v in value.items())
    return False


def single_line(value: str) -> str:
    """For names, keywords and the like: a tab or line break in one is a paste gone wrong."""
    if _LINE_BREAK.search(value):
        raise ValueError("must be on one line (no tabs or line breaks)")
    return value


class RequestBody(BaseModel):
    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        if has_control_characters(value):
            raise ValueError(CONTROL_MESSAGE)
        return value
