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


def _cgroup(tmp_path: Path, files: dict) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    "files, quota",
    [
        ({"cpu.max": "100000 100000\n"}, 1),  # a pod limited to one CPU (cgroup v2)
        ({"cpu.max": "150000 100000\n"}, 2),  # 1.5 CPUs: rounded up
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 2),  # cgroup v1
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({}, None),  # no cgroup files: no quota
        ({"cpu.max": "garbage\n"}, None),
    ],
)
def test_a_containers_cpu_quota_is_read_from_its_cgroup(tmp_path: Path, files: dict, quota) -> None:
    from supportdesk.platform.settings import cgroup_cpu_quota

    assert cgroup_cpu_quota(_cgroup(tmp_path, files)) == quota


def test_cores_are_capped_by_the_quota_and_never_zero(tmp_path: Path) -> None:
    import os

    from supportdesk.platform.settings import cores

    available = len(os.sched_getaffinity(0))
    assert cores(_cgroup(tmp_path / "one", {"cpu.max": "100000 100000\n"})) == 1
    assert cores(_cgroup(tmp_path / "none", {})) == available
    assert cores(_cgroup(tmp_path / "many", {"cpu.max": "6400000 100000\n"})) == available  # quota above the affinity
