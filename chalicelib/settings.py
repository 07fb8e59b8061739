"""Typed configuration built from environment variables, read once per process."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_MODEL = "claude-haiku-4-5-20251001"


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {value}")
    return value


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _key(env: Mapping[str, str], name: str) -> bytes | None:
    value = _optional(env, name)
    if value is not None and len(value) < 16:
        raise SettingsError(f"{name} must be at least 16 characters")
    return value.encode() if value else None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service can be configured with. See docs/configuration.md."""

    table_name: str
    region: str
    stage: str
    allowed_origins: tuple[str, ...]
    anthropic_model: str
    anthropic_api_key: str | None
    anthropic_api_key_parameter: str | None
    anthropic_base_url: str | None
    classify_timeout_seconds: float
    claude_daily_call_budget: int
    counter_shards: int
    search_candidate_budget: int
    max_body_bytes: int
    tracing_enabled: bool
    cursor_key: bytes | None
    cursor_key_parameter: str | None
    link_key: bytes | None
    link_key_parameter: str | None
    site_url: str | None
    mail_sender: str | None
    confirmations_per_hour: int
    confirmations_per_hour_total: int
    resolved_email_delay_seconds: int
    write_retry_seconds: float
    agents_cache_seconds: int
    cognito_user_pool_id: str | None
    cognito_app_client_id: str | None
    cognito_issuer: str | None
    cognito_jwks_url: str | None
    idempotency_ttl_seconds: int
    classification_cache_ttl_seconds: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from a mapping shaped like ``os.environ``."""
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        pool_id = _optional(env, "COGNITO_USER_POOL_ID")
        issuer = _optional(env, "COGNITO_ISSUER") or (
            f"https://cognito-idp.{region}.amazonaws.com/{pool_id}" if pool_id else None
        )
        origins = tuple(
            origin.strip().rstrip("/")
            for origin in env.get("CORS_ALLOWED_ORIGINS", "").split(",")
            if origin.strip()
        )
        return cls(
            table_name=env.get("TICKETS_TABLE_NAME", "support-tickets-local"),
            region=region,
            stage=env.get("STAGE", "local"),
            allowed_origins=origins,
            anthropic_model=env.get("ANTHROPIC_MODEL") or DEFAULT_MODEL,
            anthropic_api_key=_optional(env, "ANTHROPIC_API_KEY"),
            anthropic_api_key_parameter=_optional(env, "ANTHROPIC_API_KEY_PARAMETER"),
            anthropic_base_url=_optional(env, "ANTHROPIC_BASE_URL"),
            classify_timeout_seconds=_float(env, "CLASSIFY_TIMEOUT_SECONDS", 5.0),
            claude_daily_call_budget=_int(env, "CLAUDE_DAILY_CALL_BUDGET", 2000, 0, 1_000_000),
            counter_shards=_int(env, "STATS_COUNTER_SHARDS", 8, 1, 64),
            search_candidate_budget=_int(env, "SEARCH_CANDIDATE_BUDGET", 2000, 100, 100_000),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 65536, 1024, 6_000_000),
            tracing_enabled=env.get("POWERTOOLS_TRACE_DISABLED", "true").lower() == "false",
            # Keys come from the environment (local stack, tests) or from SSM
            # SecureStrings generated per stage at deploy (tools/deploy.py); there is
            # no built-in default, so nothing deployed signs with a published key.
            cursor_key=_key(env, "CURSOR_KEY"),
            cursor_key_parameter=_optional(env, "CURSOR_KEY_PARAMETER"),
            link_key=_key(env, "LINK_KEY"),
            link_key_parameter=_optional(env, "LINK_KEY_PARAMETER"),
            site_url=(_optional(env, "SITE_URL") or "").rstrip("/") or None,
            mail_sender=_optional(env, "MAIL_SENDER"),
            confirmations_per_hour=_int(env, "CONFIRMATIONS_PER_ADDRESS_PER_HOUR", 3, 1, 1000),
            confirmations_per_hour_total=_int(
                env, "CONFIRMATIONS_PER_HOUR_TOTAL", 1000, 1, 1_000_000
            ),
            resolved_email_delay_seconds=_int(env, "RESOLVED_EMAIL_DELAY_SECONDS", 10, 0, 60),
            write_retry_seconds=_float(env, "WRITE_RETRY_SECONDS", 3.0),
            agents_cache_seconds=_int(env, "AGENTS_CACHE_SECONDS", 60, 0, 3600),
            cognito_user_pool_id=pool_id,
            cognito_app_client_id=_optional(env, "COGNITO_APP_CLIENT_ID"),
            cognito_issuer=issuer,
            # Locally the tokens name the real Cognito issuer but the keys are on moto.
            cognito_jwks_url=_optional(env, "COGNITO_JWKS_URL")
            or (f"{issuer}/.well-known/jwks.json" if issuer else None),
            idempotency_ttl_seconds=_int(env, "IDEMPOTENCY_TTL_SECONDS", 86400, 60, 7 * 86400),
            classification_cache_ttl_seconds=_int(
                env, "CLASSIFICATION_CACHE_TTL_SECONDS", 7 * 86400, 60, 30 * 86400
            ),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings.from_env(os.environ)
