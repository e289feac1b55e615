"""Configuration from the environment (and ``.env``); one typed object for the whole process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.hosts import host_rules

UK_NATIONS = ("ENG", "WLS", "SCT", "NIR")
ENVIRONMENTS = ("development", "test", "production")


class Settings(BaseSettings):
    """Every setting the bot reads. Each one is documented in README.md and app.json."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///coregroup.db",
        description="SQLAlchemy URL. SQLite file by default; postgresql://… for several instances.",
    )
    port: int = Field(default=3000, description="HTTP port for `coregroup serve`.")
    host: str = Field(default="0.0.0.0", description="HTTP bind address.")  # noqa: S104

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"

    microsoft_app_id: str | None = None
    microsoft_app_password: str | None = None
    microsoft_app_tenant_id: str | None = None
    microsoft_app_type: str = "SingleTenant"
    teams_allow_unauthenticated: bool = Field(
        default=False,
        description="Local development only: accept Teams activities without a JWT.",
    )
    teams_extra_service_hosts: str = Field(
        default="",
        description="Comma separated host or host:port Teams service URLs may name besides "
        "Microsoft's Bot Connector hosts (http allowed for these), e.g. a local test connector.",
    )

    coregroup_timezone: str = "Europe/London"
    coregroup_holidays: str = "ENG"
    coregroup_encryption_key: str | None = None
    coregroup_sets_dir: Path | None = Field(
        default=None, description="Folder of an organisation's own question sets (YAML)."
    )
    coregroup_max_answer_chars: int = 3000
    coregroup_digest_min_count: int = Field(
        default=5, ge=1, description="Lead Officer digest: counts below this are suppressed."
    )
    coregroup_protective_marking: str = Field(
        default="OFFICIAL-SENSITIVE",
        max_length=60,
        description="Protective marking on every page of the Word record; empty for none.",
    )
    coregroup_answer_retention_days: int = Field(
        default=90, description="Days after a record is final that members' answers are deleted."
    )
    coregroup_record_retention_days: int = Field(
        default=2555, description="Days after closing that a whole session and its record go."
    )
    coregroup_audit_retention_days: int = Field(
        default=2920, description="Days the audit log keeps an event."
    )
    coregroup_audit_key: str | None = Field(
        default=None,
        description="Secret key(s), comma-separated, for the audit log's HMAC chain.",
    )
    coregroup_inbound_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Seconds before acknowledged work left by a stopped process is taken again.",
    )
    coregroup_env: str = Field(
        default="development",
        description="development, test or production; production refuses unsafe settings.",
    )

    @field_validator("coregroup_env", mode="before")
    @classmethod
    def _known_env(cls, value: object) -> str:
        env = str(value).strip().lower()
        if env not in ENVIRONMENTS:
            # A typo such as "prod" must not quietly mean development.
            raise ValueError(
                f"COREGROUP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {str(value)[:20]!r}"
            )
        return env

    @property
    def production(self) -> bool:
        return self.coregroup_env == "production"

    @field_validator("coregroup_holidays")
    @classmethod
    def _known_nation(cls, value: str) -> str:
        value = value.upper()
        if value not in UK_NATIONS:
            raise ValueError(f"COREGROUP_HOLIDAYS must be one of {', '.join(UK_NATIONS)}")
        return value

    @field_validator("teams_extra_service_hosts")
    @classmethod
    def _host_list(cls, value: str) -> str:
        host_rules(value, "TEAMS_EXTRA_SERVICE_HOSTS")  # a ValueError names the bad entry
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def settings_problems(exc: ValidationError) -> list[str]:
    """One plain line a setting that could not be read (names as in the environment)."""
    lines = []
    for error in exc.errors():
        name = "_".join(str(part) for part in error["loc"]).upper() or "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(message if message.startswith(name) else f"{name}: {message}")
    return lines
