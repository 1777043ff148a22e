"""Argon2 password hashing (pwdlib's recommended parameters)."""

from __future__ import annotations

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
# Verifying against this keeps a login for an unknown email as slow as a real one,
# so response timing does not reveal which emails exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password-but-a-timing-guard")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, password_hash)
