"""Attendant tokens: HS256 JWTs with `sub`, `name`, `role`, `exp`; verified on every API call.

`python -m supportdesk.attendant.tokens --sub ana --name Ana --role attendant` mints one for
trials (`make token`), since there is no identity provider yet.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from typing import Optional, Sequence

import jwt

from supportdesk.platform.settings import get_settings

ROLES = ("attendant", "admin")
ALGORITHM = "HS256"
DEFAULT_TTL_SECONDS = 12 * 3600  # one shift
MIN_SECRET_CHARS = 16
CLOCK_SKEW_SECONDS = 60  # a token minted on a clock slightly ahead of ours is still accepted


class TokenRejected(Exception):
    """The token is missing, malformed, badly signed, expired or lacks a required claim."""


@dataclasses.dataclass(frozen=True)
class Attendant:
    """Who is calling, from the token's claims."""

    id: str
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        """Admins may release any conversation."""
        return self.role == "admin"


def mint_token(secret: str, sub: str, name: str, role: str = "attendant", ttl_seconds: int = DEFAULT_TTL_SECONDS,
               now: Optional[float] = None) -> str:
    """A signed token for one attendant."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if not sub:
        raise ValueError("sub (the attendant id) is required")
    issued = int(time.time() if now is None else now)
    claims = {"sub": sub, "name": name or sub, "role": role, "iat": issued, "exp": issued + ttl_seconds}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(
    secret: Optional[str],
    authorization: Optional[str],
    max_lifetime_seconds: float = DEFAULT_TTL_SECONDS,
    now: Optional[float] = None,
) -> Attendant:
    """The attendant of an `Authorization: Bearer <jwt>` header, or TokenRejected saying why.

    `exp` must be an integer at most `max_lifetime_seconds` (plus a minute of clock skew) from
    now: a token minted for a century is refused, however well signed.
    """
    if not secret:
        raise TokenRejected("the attendant API is not configured (ATTENDANT_JWT_SECRET is unset)")
    if not authorization:
        raise TokenRejected("Authorization: Bearer <token> is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRejected("Authorization must be 'Bearer <token>'")
    try:
        claims = jwt.decode(
            token.strip(), secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "role"]}
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejected("the token has expired") from None
    except jwt.InvalidSignatureError:
        raise TokenRejected("the token's signature is invalid") from None
    except jwt.PyJWTError as error:
        raise TokenRejected(f"the token is invalid: {error}") from None
    role = claims.get("role")
    if role not in ROLES or not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise TokenRejected("the token's role or subject is invalid")
    expires = claims.get("exp")
    if not isinstance(expires, int) or isinstance(expires, bool):
        raise TokenRejected("the token's exp must be an integer (seconds since 1970)")
    if expires - (time.time() if now is None else now) > max_lifetime_seconds + CLOCK_SKEW_SECONDS:
        raise TokenRejected("the token's lifetime is longer than this server allows")
    return Attendant(id=claims["sub"], name=str(claims.get("name") or claims["sub"]), role=role)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Print a token for `--sub/--name/--role` signed with ATTENDANT_JWT_SECRET."""
    parser = argparse.ArgumentParser(description="Mint an attendant token for the attendant API.")
    parser.add_argument("--sub", required=True, help="attendant id, e.g. ana")
    parser.add_argument("--name", default="", help="display name")
    parser.add_argument("--role", default="attendant", choices=ROLES)
    parser.add_argument("--hours", type=float, default=DEFAULT_TTL_SECONDS / 3600, help="validity in hours")
    args = parser.parse_args(argv)
    secret = get_settings().attendant_jwt_secret
    if not secret:
        print("ATTENDANT_JWT_SECRET is not set (in the environment or .env); set it first.", file=sys.stderr)
        return 2
    if len(secret) < MIN_SECRET_CHARS:
        print(f"warning: ATTENDANT_JWT_SECRET is shorter than {MIN_SECRET_CHARS} characters", file=sys.stderr)
    longest = get_settings().attendant_token_max_hours
    if args.hours > longest:
        print(f"--hours may be at most {longest:g} (ATTENDANT_TOKEN_MAX_HOURS)", file=sys.stderr)
        return 2
    print(mint_token(secret, args.sub, args.name or args.sub, args.role, int(args.hours * 3600)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
