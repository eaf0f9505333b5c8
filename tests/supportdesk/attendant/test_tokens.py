"""Attendant JWTs: every rejection the contract names, and the minting command."""

import jwt
import pytest

from supportdesk.attendant import tokens as attendant_tokens
from supportdesk.attendant.tokens import TokenRejected, mint_token, verify_token

SECRET = "test-attendant-secret-0123456789"


def bearer(token: str) -> str:
    return f"Bearer {token}"


def test_a_fresh_token_names_the_attendant():
    attendant = verify_token(SECRET, bearer(mint_token(SECRET, "ana", "Ana", "attendant")))
    assert (attendant.id, attendant.name, attendant.role, attendant.is_admin) == ("ana", "Ana", "attendant", False)
    assert verify_token(SECRET, bearer(mint_token(SECRET, "boss", "Boss", "admin"))).is_admin


@pytest.mark.parametrize(
    "header, reason",
    [
        (None, "required"),
        ("", "required"),
        ("Basic abc", "Bearer"),
        ("Bearer ", "Bearer"),
        ("Bearer not-a-jwt", "invalid"),
        (bearer(mint_token("another-secret-0123456789", "ana", "Ana")), "signature"),
        (bearer(mint_token(SECRET, "ana", "Ana", ttl_seconds=-10)), "expired"),
        (bearer(jwt.encode({"sub": "ana", "role": "attendant"}, SECRET, algorithm="HS256")), "invalid"),
        (bearer(jwt.encode({"sub": "ana", "role": "owner", "exp": 9999999999}, SECRET, algorithm="HS256")), "role"),
        (bearer(jwt.encode({"sub": "ana", "role": "admin", "exp": 9999999999}, SECRET, algorithm="HS512")), "invalid"),
        (bearer(jwt.encode({"sub": "ana", "role": "admin", "exp": 9999999999}, None, algorithm="none")), "invalid"),
    ],
)
def test_rejections(header, reason):
    with pytest.raises(TokenRejected, match=reason):
        verify_token(SECRET, header)


def test_no_secret_configured_rejects_everything():
    with pytest.raises(TokenRejected, match="ATTENDANT_JWT_SECRET"):
        verify_token(None, bearer(mint_token(SECRET, "ana", "Ana")))


def test_command_prints_a_token_signed_with_the_setting(monkeypatch, capsys):
    monkeypatch.setenv("ATTENDANT_JWT_SECRET", SECRET)
    assert attendant_tokens.main(["--sub", "ana", "--name", "Ana", "--role", "admin"]) == 0
    token = capsys.readouterr().out.strip()
    assert verify_token(SECRET, bearer(token)).role == "admin"


def test_command_without_secret_says_how_to_fix(capsys):
    assert attendant_tokens.main(["--sub", "ana"]) == 2
    assert "ATTENDANT_JWT_SECRET" in capsys.readouterr().err


@pytest.mark.parametrize(
    "claims, reason",
    [
        ({"sub": "ana", "role": "attendant", "exp": 10**20}, "lifetime"),
        ({"sub": "ana", "role": "attendant", "exp": 1_900_000_000 + 13 * 3600}, "lifetime"),
        ({"sub": "ana", "role": "attendant", "exp": str(1_900_000_000 + 3600)}, "exp must be an integer"),
        ({"sub": "ana", "role": "attendant", "exp": 1_900_000_000 + 3600.5}, "exp must be an integer"),
    ],
)
def test_tokens_without_a_ceiling_are_refused(claims, reason):
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    with pytest.raises(TokenRejected, match=reason):
        verify_token(SECRET, bearer(token), max_lifetime_seconds=12 * 3600, now=1_900_000_000)


def test_a_token_within_the_ceiling_and_a_minute_of_skew_is_accepted():
    token = mint_token(SECRET, "ana", "Ana", ttl_seconds=12 * 3600 + 30)
    assert verify_token(SECRET, bearer(token), max_lifetime_seconds=12 * 3600).id == "ana"


def test_command_refuses_a_lifetime_over_the_setting(monkeypatch, capsys):
    monkeypatch.setenv("ATTENDANT_JWT_SECRET", SECRET)
    monkeypatch.setenv("ATTENDANT_TOKEN_MAX_HOURS", "8")
    assert attendant_tokens.main(["--sub", "ana", "--hours", "9"]) == 2
    assert "ATTENDANT_TOKEN_MAX_HOURS" in capsys.readouterr().err
