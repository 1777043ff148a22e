from __future__ import annotations

from pydantic import Field

from bcrao.schemas import RequestBody


class DeleteAccountRequest(RequestBody):
    # No length rule beyond a sane bound: a wrong password is a 401, not a 422.
    password: str = Field(min_length=1, max_length=1024, description="The account's password, to confirm")
