"""Signature and subscription checks against the shared fixtures."""

import json

import pytest

from supportdesk.whatsapp.signature import SignatureCheck, check_signature, sign, subscription_challenge
from tests.fixture_files import APP_SECRET, VERIFY_TOKEN, fixture_bytes, fixture_signature, webhook_fixture_names


@pytest.mark.parametrize("name", webhook_fixture_names("inbound_") + webhook_fixture_names("status_"))
def test_every_fixture_signature_is_valid(name: str) -> None:
    assert check_signature(fixture_bytes(name), fixture_signature(name), APP_SECRET) is SignatureCheck.VALID


def test_signature_covers_raw_bytes_not_reserialised_json() -> None:
    body = fixture_bytes("inbound_text_unicode.json")
    reencoded = json.dumps(json.loads(body), ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    assert reencoded != body
    assert check_signature(reencoded, fixture_signature("inbound_text_unicode.json"), APP_SECRET) is SignatureCheck.MISMATCH


def test_raw_utf8_body_signed_by_a_proxy_is_valid() -> None:
    body = '{"text": "Olá, João ☕ 👩‍👩‍👧"}'.encode()
    assert check_signature(body, sign(body, APP_SECRET), APP_SECRET) is SignatureCheck.VALID


@pytest.mark.parametrize(
    "header, secret, expected",
    [
        (None, APP_SECRET, SignatureCheck.MISSING),
        ("", APP_SECRET, SignatureCheck.MISSING),
        ("sha256=" + "0" * 64, None, SignatureCheck.MISSING),
        ("sha256=" + "0" * 64, APP_SECRET, SignatureCheck.MISMATCH),
        ("sha1=abc", APP_SECRET, SignatureCheck.MISMATCH),
        ("garbage ü", APP_SECRET, SignatureCheck.MISMATCH),
    ],
)
def test_missing_and_wrong_headers(header, secret, expected) -> None:
    assert check_signature(fixture_bytes("inbound_text.json"), header, secret) is expected


def test_uppercase_hex_is_accepted() -> None:
    name = "inbound_text.json"
    header = "SHA256=" + fixture_signature(name)[len("sha256="):].upper()
    assert check_signature(fixture_bytes(name), header, APP_SECRET) is SignatureCheck.VALID


@pytest.mark.parametrize(
    "query, token, challenge",
    [
        ({"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": VERIFY_TOKEN}, VERIFY_TOKEN, "1158201444"),
        ({"hub.mode": "subscribe", "hub.challenge": "abc 123", "hub.verify_token": VERIFY_TOKEN}, VERIFY_TOKEN, "abc 123"),
        ({"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "wrong-token"}, VERIFY_TOKEN, None),
        ({"hub.mode": "unsubscribe", "hub.challenge": "1", "hub.verify_token": VERIFY_TOKEN}, VERIFY_TOKEN, None),
        ({"hub.challenge": "1", "hub.verify_token": VERIFY_TOKEN}, VERIFY_TOKEN, None),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, VERIFY_TOKEN, None),
        ({"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": ""}, VERIFY_TOKEN, None),
        ({"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": VERIFY_TOKEN.upper()}, VERIFY_TOKEN, None),
        ({"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": ""}, None, None),
        ({"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN}, VERIFY_TOKEN, None),
    ],
)
def test_subscription_handshake(query, token, challenge) -> None:
    assert subscription_challenge(query, token) == challenge
