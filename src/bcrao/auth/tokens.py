"""Signed tokens: access tokens for the API, stream tokens bound to one run.

Both are JWTs with expiry, issuer and audience checked; they use different audiences so
a stream token can never be used as an access token (and access tokens never need to
appear in a URL).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt

from bcrao.errors import Unauthorized

ALGORITHM = "HS256"
# Verified access tokens remembered per process (see TokenSigner.user_id_from_access).
VERIFIED_TOKENS = 4096


@dataclass(frozen=True, slots=True)
class TokenSigner:
    key: str
    issuer: str
    audience: str
    access_ttl: int
    stream_ttl: int
    _verified: dict[str, tuple[uuid.UUID, float]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def stream_audience(self) -> str:
        return f"{self.audience}:stream"

    def _encode(self, claims: dict, audience: str, ttl: int) -> str:
        now = datetime.now(UTC)
        payload = {
            **claims,
            "iss": self.issuer,
            "aud": audience,
            "iat": now,
            "exp": now + timedelta(seconds=ttl),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(payload, self.key, algorithm=ALGORITHM)

    def _decode(self, token: str, audience: str) -> dict:
        try:
            return jwt.decode(
                token,
                self.key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("Token expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("Invalid token") from None

    def access_token(self, user_id: uuid.UUID) -> str:
        return self._encode({"sub": str(user_id)}, self.audience, self.access_ttl)

    def user_id_from_access(self, token: str) -> uuid.UUID:
        """Verify once per token, not once per request: decoding costs about as much CPU as
        a short query (``bench/README.md``, "Load"), and a client sends the same token
        until it expires.

        Only tokens that passed full verification are remembered, keyed by their exact
        text, and the expiry is checked again on every use; a token past it is decoded
        afresh and refused as expired. Whether the user still exists is not the token's
        business: the auth dependency reads the user row on every request.
        """
        hit = self._verified.get(token)
        if hit is not None and time.time() < hit[1]:
            return hit[0]
        claims = self._decode(token, self.audience)
        user_id = _uuid(claims["sub"])
        if len(self._verified) >= VERIFIED_TOKENS:
            self._verified.pop(next(iter(self._verified)))  # the oldest entry
        self._verified[token] = (user_id, float(claims["exp"]))
        return user_id

    def stream_token(self, user_id: uuid.UUID, run_id: uuid.UUID) -> str:
        return self._encode({"sub": str(user_id), "run": str(run_id)}, self.stream_audience, self.stream_ttl)

    def check_stream_token(self, token: str, run_id: uuid.UUID) -> uuid.UUID:
        """The user the token was issued to, if it was issued for this run."""
        claims = self._decode(token, self.stream_audience)
        if claims.get("run") != str(run_id):
            raise Unauthorized("Stream token is for another run")
        return _uuid(claims["sub"])


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        raise Unauthorized("Invalid token") from None
