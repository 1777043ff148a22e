from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field

from bcrao.schemas import RequestBody


class Credentials(RequestBody):
    email: EmailStr = Field(max_length=320)
    password: str = Field(min_length=8, max_length=1024)


class LoginRequest(RequestBody):
    # No format rules on login: a wrong email is just a failed login (401), not a 422.
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class UserSummary(BaseModel):
    id: uuid.UUID
    email: str
    plan: str


class UserOut(UserSummary):
    created_at: datetime


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    user: UserSummary
