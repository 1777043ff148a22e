from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.auth.models import PLANS, User
from bcrao.auth.passwords import hash_password, verify_password
from bcrao.errors import Conflict, Unauthorized

INVALID_LOGIN = "Invalid email or password"


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def create_user(session: AsyncSession, *, email: str, password: str, plan: str = "trial") -> User:
    if plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r}")
    # Argon2 takes tens of milliseconds of CPU: on the event loop it would stall every
    # request and stream of the process, so it runs on a worker thread (it releases the GIL).
    password_hash = await asyncio.to_thread(hash_password, password)
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
    valid = await asyncio.to_thread(verify_password, password, user.password_hash if user else None)
    if not valid or user is None:
        raise Unauthorized(INVALID_LOGIN)
    return user


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)
