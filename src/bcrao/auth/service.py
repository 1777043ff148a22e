from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.auth.models import PLANS, User
from bcrao.auth.passwords import hash_password_off_loop, verify_password_off_loop
from bcrao.errors import Conflict, Unauthorized

INVALID_LOGIN = "Invalid email or password"


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def create_user(session: AsyncSession, *, email: str, password: str, plan: str = "trial") -> User:
    if plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r}")
    password_hash = await hash_password_off_loop(password)
    user = User(email=normalize_email(email), password_hash=password_hash, plan=plan)
    session.add(user)
    try:
        # The unique index decides, so two concurrent signups cannot both succeed.
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("An account with this email already exists") from None
    return user


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User:
    user = await session.scalar(select(User).where(User.email == normalize_email(email)))
    valid = await verify_password_off_loop(password, user.password_hash if user else None)
    if not valid or user is None:
        raise Unauthorized(INVALID_LOGIN)
    return user


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)
