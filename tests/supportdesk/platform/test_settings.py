"""Settings: defaults, environment over .env, clear errors for bad values."""

from pathlib import Path

import pytest

from supportdesk.platform.settings import DEFAULT_GRAPH_API_URL, SettingsError, load_settings


def test_defaults_need_no_environment(tmp_path: Path) -> None:
    settings = load_settings({}, dotenv=tmp_path / "missing.env")
    assert settings.whatsapp_api_url == DEFAULT_GRAPH_API_URL
    assert settings.openai_model == "gpt-4o-mini"
    assert settings.fcm_api_url == "https://fcm.googleapis.com"
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("supportdesk.db")
    assert settings.redis_url is None
    assert settings.whatsapp_sending_enabled is False
    assert settings.handoff_claim_timeout_seconds == 300


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("# comment\nexport OPENAI_MODEL=from-dotenv\nWHATSAPP_VERIFY_TOKEN='quoted'\n\n")
    settings = load_settings({"OPENAI_MODEL": "from-env"}, dotenv=dotenv)
    assert settings.openai_model == "from-env"
    assert settings.whatsapp_verify_token == "quoted"


def test_api_url_trailing_slash_is_dropped(tmp_path: Path) -> None:
    settings = load_settings({"WHATSAPP_API_URL": "http://127.0.0.1:9/v99.0/"}, dotenv=tmp_path / "none")
    assert settings.whatsapp_api_url == "http://127.0.0.1:9/v99.0"


def test_sending_needs_token_and_number(tmp_path: Path) -> None:
    only_token = load_settings({"WHATSAPP_ACCESS_TOKEN": "t"}, dotenv=tmp_path / "none")
    both = load_settings({"WHATSAPP_ACCESS_TOKEN": "t", "WHATSAPP_PHONE_NUMBER_ID": "1"}, dotenv=tmp_path / "none")
    assert (only_token.whatsapp_sending_enabled, both.whatsapp_sending_enabled) == (False, True)


def test_postgres_url_is_recognised(tmp_path: Path) -> None:
    settings = load_settings({"DATABASE_URL": "postgresql://u:p@127.0.0.1/db"}, dotenv=tmp_path / "none")
    assert settings.database_is_postgres


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("HANDOFF_CLAIM_TIMEOUT", "soon", "HANDOFF_CLAIM_TIMEOUT must be a number"),
        ("GRAPH_TIMEOUT_SECONDS", "-1", "GRAPH_TIMEOUT_SECONDS must not be negative"),
        ("SIMULATOR_ENABLED", "maybe", "SIMULATOR_ENABLED must be true or false"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL must start with"),
        ("INBOX_RETENTION_DAYS", "7", "INBOX_RETENTION_DAYS must be at least 8: Meta redelivers messages for 7 days"),
        ("PUSH_LOG_RETENTION_DAYS", "-1", "PUSH_LOG_RETENTION_DAYS must not be negative"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({variable: value}, dotenv=tmp_path / "none")


def test_retention_days_default_to_thirty_and_can_be_set(tmp_path: Path) -> None:
    defaults = load_settings({}, dotenv=tmp_path / "none")
    assert (defaults.inbox_retention_days, defaults.push_log_retention_days) == (30, 30)
    chosen = load_settings({"INBOX_RETENTION_DAYS": "8", "PUSH_LOG_RETENTION_DAYS": "0"}, dotenv=tmp_path / "none")
    assert (chosen.inbox_retention_days, chosen.push_log_retention_days) == (8, 0)


def test_media_settings(tmp_path: Path) -> None:
    defaults = load_settings(environ={}, dotenv=tmp_path / "none.env")
    assert defaults.media_storage_url.startswith("file:///") and defaults.media_storage_url.endswith("/var/media")
    assert (defaults.media_retention_days, defaults.openai_transcription_model) == (90, "gpt-4o-mini-transcribe")
    chosen = load_settings(
        environ={"MEDIA_STORAGE_URL": "s3://bucket/media", "MEDIA_RETENTION_DAYS": "30", "OPENAI_TRANSCRIPTION_MODEL": "whisper-1"},
        dotenv=tmp_path / "none.env",
    )
    assert (chosen.media_storage_url, chosen.media_retention_days, chosen.openai_transcription_model) == (
        "s3://bucket/media", 30, "whisper-1"
    )
    for environ, message in (
        ({"MEDIA_STORAGE_URL": "ftp://host/media"}, "MEDIA_STORAGE_URL must start with file:/// or s3://"),
        ({"MEDIA_STORAGE_URL": "s3://"}, "MEDIA_STORAGE_URL must start with file:/// or s3://"),
        ({"MEDIA_RETENTION_DAYS": "0"}, "MEDIA_RETENTION_DAYS must be above 0"),
    ):
        with pytest.raises(SettingsError, match=message):
            load_settings(environ=environ, dotenv=tmp_path / "none.env")
