"""The only reader of the environment: every setting, typed, with its default.

`.env` in the project root is read when present and never overrides a variable that is
already set in the real environment (production values win).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path
from typing import Mapping, Optional

PROJECT_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_GRAPH_API_URL = "https://graph.facebook.com/v24.0"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_FCM_API_URL = "https://fcm.googleapis.com"
DEFAULT_TRANSCRIPTION_MODEL = "gpt-4o-mini-transcribe"
DEFAULT_MEDIA_STORAGE_URL = (PROJECT_ROOT / "var" / "media").as_uri()
# Meta redelivers an unacknowledged webhook for up to 7 days (docs/whatsapp_contract.md §3); an inbox row
# kept at least a day longer still turns such a late copy into a duplicate instead of a second turn.
MIN_INBOX_RETENTION_DAYS = 8


AUTO_ASSIGN_MODES = ("off", "round_robin")  # HANDOFF_AUTO_ASSIGN
SUPPORTED_LANGUAGES = ("en", "pt-BR")  # the languages every customer-facing response exists in


def cores(cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """CPUs this process may use: its CPU affinity, capped by its container's CPU quota (rounded up).

    The default number of dialogue workers, and each worker's TensorFlow threads: a pod limited to
    one CPU on a 16-core node runs one thread, not sixteen throttled ones.
    """
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    quota = cgroup_cpu_quota(cgroup_root)
    return max(1, min(available, quota)) if quota else available


def cgroup_cpu_quota(root: Path) -> Optional[int]:
    """Whole CPUs the cgroup's quota allows (v2 `cpu.max`, else v1 `cpu.cfs_quota_us`); None without a quota."""
    limit = _first_line(root / "cpu.max")
    if limit is not None:
        quota, _, period = limit.partition(" ")
    else:
        quota, period = _first_line(root / "cpu" / "cpu.cfs_quota_us"), _first_line(root / "cpu" / "cpu.cfs_period_us")
    try:
        return -(-int(quota) // int(period)) if int(quota) > 0 else None  # "max" and -1: no quota
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _first_line(path: Path) -> Optional[str]:
    try:
        return path.read_text().strip()
    except OSError:
        return None


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every configurable value of the service; built once by `get_settings()`."""

    whatsapp_verify_token: Optional[str] = None
    whatsapp_app_secret: Optional[str] = None
    whatsapp_access_token: Optional[str] = None
    whatsapp_phone_number_id: Optional[str] = None
    whatsapp_api_url: str = DEFAULT_GRAPH_API_URL
    whatsapp_business_account_id: Optional[str] = None  # lists message templates; none: no templates
    graph_timeout_seconds: float = 15.0
    graph_max_attempts: int = 5
    graph_backoff_base_seconds: float = 1.0
    graph_backoff_cap_seconds: float = 60.0
    whatsapp_messages_per_second: float = 80.0  # Cloud API's default throughput of a business number
    whatsapp_pair_burst: int = 10  # messages to one customer at once before one every 6 s (Meta's pair limit)

    openai_api_key: Optional[str] = None
    openai_base_url: Optional[str] = None
    openai_model: str = DEFAULT_OPENAI_MODEL
    openai_timeout_seconds: float = 15.0
    openai_max_tokens: int = 400
    openai_temperature: float = 0.3
    ai_max_calls_per_hour: int = 30
    ai_context_turns: int = 12
    openai_transcription_model: str = DEFAULT_TRANSCRIPTION_MODEL

    media_storage_url: str = DEFAULT_MEDIA_STORAGE_URL  # file:///path or s3://bucket/prefix (boto3, AWS_*)
    media_retention_days: int = 90

    fcm_service_account_file: Optional[str] = None
    fcm_project_id: Optional[str] = None
    fcm_api_url: str = DEFAULT_FCM_API_URL
    fcm_timeout_seconds: float = 10.0
    fcm_max_attempts: int = 3

    attendant_jwt_secret: Optional[str] = None
    attendant_token_max_hours: float = 12.0
    action_server_token: Optional[str] = None

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'supportdesk.db'}"
    redis_url: Optional[str] = None

    handoff_claim_timeout_seconds: int = 300
    handoff_give_up_seconds: int = 1800
    attendant_idle_reminder_seconds: int = 600

    business_timezone: str = "UTC"
    business_hours: str = "mon-fri 09:00-18:00"  # the contract's default; the sample salon (data/knowledge/hours.md) agrees
    scheduling_handoff: bool = False
    default_language: str = "en"
    handoff_auto_assign: str = "off"  # or `round_robin`: a waiting conversation goes to an available attendant
    appointment_reminder_hours: float = 24.0
    appointment_reminder_template: Optional[str] = None  # outside the 24-hour window; none: no reminder then
    appointment_update_template: Optional[str] = None  # confirm/decline outside the window; none: 409

    inbox_retention_days: int = 30
    push_log_retention_days: int = 30

    # Largest request body the server reads on any route (413 above it); the webhook keeps its own 4 MiB.
    server_max_body_bytes: int = 4 * 1024 * 1024

    # Dialogue worker processes `make run` starts beside the web process; 0: the dialogue runs inside it.
    dialogue_workers: int = dataclasses.field(default_factory=cores)

    simulator_enabled: bool = False
    log_level: str = "INFO"
    log_format: str = "json"

    @property
    def whatsapp_sending_enabled(self) -> bool:
        """True when replies can really be sent through the Graph API."""
        return bool(self.whatsapp_access_token and self.whatsapp_phone_number_id)

    @property
    def database_is_postgres(self) -> bool:
        """True when `DATABASE_URL` names PostgreSQL rather than SQLite."""
        return self.database_url.startswith(("postgresql://", "postgres://"))


def _read_dotenv(path: Path) -> dict:
    """Parse KEY=VALUE lines of a .env file (comments, blanks and `export ` allowed)."""
    values = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _optional(env: Mapping[str, str], name: str) -> Optional[str]:
    value = env.get(name, "").strip()
    return value or None


def _number(env: Mapping[str, str], name: str, default: float, kind: type) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative, got {raw!r}")
    return value


def _positive(env: Mapping[str, str], name: str, default: float, kind: type) -> float:
    value = _number(env, name, default, kind)
    if value <= 0:
        raise SettingsError(f"{name} must be above 0, got {value!r}")
    return value


def _language(env: Mapping[str, str], name: str, default: str) -> str:
    value = (env.get(name) or "").strip() or default
    if value not in SUPPORTED_LANGUAGES:
        raise SettingsError(f"{name} must be one of {', '.join(SUPPORTED_LANGUAGES)}, got {value!r}")
    return value


def _auto_assign(env: Mapping[str, str], name: str, default: str) -> str:
    value = (env.get(name) or "").strip().lower() or default
    if value not in AUTO_ASSIGN_MODES:
        raise SettingsError(f"{name} must be one of {', '.join(AUTO_ASSIGN_MODES)}, got {value!r}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _inbox_retention_days(env: Mapping[str, str], default: int) -> int:
    days = int(_number(env, "INBOX_RETENTION_DAYS", default, int))
    if days < MIN_INBOX_RETENTION_DAYS:
        raise SettingsError(
            f"INBOX_RETENTION_DAYS must be at least {MIN_INBOX_RETENTION_DAYS}: Meta redelivers messages for 7 days"
        )
    return days


def _media_storage_url(env: Mapping[str, str]) -> str:
    url = _optional(env, "MEDIA_STORAGE_URL") or (PROJECT_ROOT / "var" / "media").as_uri()
    if not (url.startswith("file:///") or (url.startswith("s3://") and len(url) > len("s3://"))):
        raise SettingsError("MEDIA_STORAGE_URL must start with file:/// or s3://<bucket>")
    return url


def load_settings(environ: Optional[Mapping[str, str]] = None, dotenv: Optional[Path] = None) -> Settings:
    """Build settings from `environ` (default: the process) layered over a .env file."""
    env = dict(_read_dotenv(dotenv if dotenv is not None else PROJECT_ROOT / ".env"))
    env.update(os.environ if environ is None else environ)
    defaults = Settings()
    database_url = _optional(env, "DATABASE_URL") or defaults.database_url
    if not database_url.startswith(("postgresql://", "postgres://", "sqlite:///")):
        raise SettingsError("DATABASE_URL must start with postgresql:// or sqlite:///")
    return Settings(
        whatsapp_verify_token=_optional(env, "WHATSAPP_VERIFY_TOKEN"),
        whatsapp_app_secret=_optional(env, "WHATSAPP_APP_SECRET"),
        whatsapp_access_token=_optional(env, "WHATSAPP_ACCESS_TOKEN"),
        whatsapp_phone_number_id=_optional(env, "WHATSAPP_PHONE_NUMBER_ID"),
        whatsapp_api_url=(_optional(env, "WHATSAPP_API_URL") or DEFAULT_GRAPH_API_URL).rstrip("/"),
        whatsapp_business_account_id=_optional(env, "WHATSAPP_BUSINESS_ACCOUNT_ID"),
        graph_timeout_seconds=_number(env, "GRAPH_TIMEOUT_SECONDS", defaults.graph_timeout_seconds, float),
        graph_max_attempts=int(_number(env, "GRAPH_MAX_ATTEMPTS", defaults.graph_max_attempts, int)),
        graph_backoff_base_seconds=_number(
            env, "GRAPH_BACKOFF_BASE_SECONDS", defaults.graph_backoff_base_seconds, float
        ),
        graph_backoff_cap_seconds=_number(env, "GRAPH_BACKOFF_CAP_SECONDS", defaults.graph_backoff_cap_seconds, float),
        whatsapp_messages_per_second=_positive(
            env, "WHATSAPP_MESSAGES_PER_SECOND", defaults.whatsapp_messages_per_second, float
        ),
        whatsapp_pair_burst=int(_positive(env, "WHATSAPP_PAIR_BURST", defaults.whatsapp_pair_burst, int)),
        openai_api_key=_optional(env, "OPENAI_API_KEY"),
        openai_base_url=_optional(env, "OPENAI_BASE_URL"),
        openai_model=_optional(env, "OPENAI_MODEL") or DEFAULT_OPENAI_MODEL,
        openai_timeout_seconds=_number(env, "OPENAI_TIMEOUT_SECONDS", defaults.openai_timeout_seconds, float),
        openai_max_tokens=int(_number(env, "OPENAI_MAX_TOKENS", defaults.openai_max_tokens, int)),
        openai_temperature=_number(env, "OPENAI_TEMPERATURE", defaults.openai_temperature, float),
        ai_max_calls_per_hour=int(_number(env, "AI_MAX_CALLS_PER_HOUR", defaults.ai_max_calls_per_hour, int)),
        ai_context_turns=int(_number(env, "AI_CONTEXT_TURNS", defaults.ai_context_turns, int)),
        openai_transcription_model=_optional(env, "OPENAI_TRANSCRIPTION_MODEL") or DEFAULT_TRANSCRIPTION_MODEL,
        media_storage_url=_media_storage_url(env),
        media_retention_days=int(_positive(env, "MEDIA_RETENTION_DAYS", defaults.media_retention_days, int)),
        fcm_service_account_file=_optional(env, "FCM_SERVICE_ACCOUNT_FILE"),
        fcm_project_id=_optional(env, "FCM_PROJECT_ID"),
        fcm_api_url=(_optional(env, "FCM_API_URL") or DEFAULT_FCM_API_URL).rstrip("/"),
        fcm_timeout_seconds=_number(env, "FCM_TIMEOUT_SECONDS", defaults.fcm_timeout_seconds, float),
        fcm_max_attempts=int(_number(env, "FCM_MAX_ATTEMPTS", defaults.fcm_max_attempts, int)),
        attendant_jwt_secret=_optional(env, "ATTENDANT_JWT_SECRET"),
        attendant_token_max_hours=_number(
            env, "ATTENDANT_TOKEN_MAX_HOURS", defaults.attendant_token_max_hours, float
        ),
        action_server_token=_optional(env, "ACTION_SERVER_TOKEN"),
        database_url=database_url,
        redis_url=_optional(env, "REDIS_URL"),
        handoff_claim_timeout_seconds=int(
            _number(env, "HANDOFF_CLAIM_TIMEOUT", defaults.handoff_claim_timeout_seconds, int)
        ),
        handoff_give_up_seconds=int(_number(env, "HANDOFF_GIVE_UP", defaults.handoff_give_up_seconds, int)),
        attendant_idle_reminder_seconds=int(
            _number(env, "ATTENDANT_IDLE_REMINDER", defaults.attendant_idle_reminder_seconds, int)
        ),
        business_timezone=_optional(env, "BUSINESS_TIMEZONE") or defaults.business_timezone,
        business_hours=_optional(env, "BUSINESS_HOURS") or defaults.business_hours,
        scheduling_handoff=_flag(env, "SCHEDULING_HANDOFF", defaults.scheduling_handoff),
        default_language=_language(env, "DEFAULT_LANGUAGE", defaults.default_language),
        handoff_auto_assign=_auto_assign(env, "HANDOFF_AUTO_ASSIGN", defaults.handoff_auto_assign),
        appointment_reminder_hours=_positive(
            env, "APPOINTMENT_REMINDER_HOURS", defaults.appointment_reminder_hours, float
        ),
        appointment_reminder_template=_optional(env, "APPOINTMENT_REMINDER_TEMPLATE"),
        appointment_update_template=_optional(env, "APPOINTMENT_UPDATE_TEMPLATE"),
        inbox_retention_days=_inbox_retention_days(env, defaults.inbox_retention_days),
        push_log_retention_days=int(
            _number(env, "PUSH_LOG_RETENTION_DAYS", defaults.push_log_retention_days, int)
        ),
        server_max_body_bytes=int(_number(env, "SERVER_MAX_BODY_BYTES", defaults.server_max_body_bytes, int)),
        dialogue_workers=int(_number(env, "DIALOGUE_WORKERS", defaults.dialogue_workers, int)),
        simulator_enabled=_flag(env, "SIMULATOR_ENABLED", defaults.simulator_enabled),
        log_level=(_optional(env, "LOG_LEVEL") or defaults.log_level).upper(),
        log_format=(_optional(env, "LOG_FORMAT") or defaults.log_format).lower(),
    )


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once on first use."""
    return load_settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
