"""Lazily built, cached collaborators. Nothing here runs at import time."""

from __future__ import annotations

from functools import lru_cache

from chalicelib.auth import TokenVerifier, build_verifier
from chalicelib.classification.llm import ClaudeClassifier
from chalicelib.classification.service import TicketClassifier
from chalicelib.cursor import CursorCodec
from chalicelib.data.classification_cache import DynamoClassificationCache
from chalicelib.data.models import bind_models
from chalicelib.data.repository import DynamoTicketRepository
from chalicelib.observability import logger
from chalicelib.settings import Settings, get_settings
from chalicelib.tickets import TicketService

# Powertools Parameters caches the key this long, so a rotated key is picked up in minutes.
API_KEY_CACHE_SECONDS = 300


def resolve_api_key(settings: Settings) -> str | None:
    """The Anthropic key: the environment locally, SSM Parameter Store when deployed."""
    if settings.anthropic_api_key:
        return settings.anthropic_api_key
    if not settings.anthropic_api_key_parameter:
        return None
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_parameter(
            settings.anthropic_api_key_parameter, decrypt=True, max_age=API_KEY_CACHE_SECONDS
        )
    except parameters.exceptions.GetParameterError:
        logger.warning(
            "Anthropic key parameter unreadable; using the offline classifier",
            extra={"parameter": settings.anthropic_api_key_parameter},
        )
        return None
    key = str(value).strip()
    # A placeholder value means "not configured yet": the offline classifier answers.
    return None if not key or key.upper() in {"NONE", "UNSET", "CHANGE-ME"} else key


@lru_cache(maxsize=1)
def get_classifier() -> TicketClassifier:
    """The classifier: Claude (cached in DynamoDB) with the offline fallback."""
    settings = get_settings()
    bind_models(settings.table_name, settings.region)
    llm = ClaudeClassifier(
        api_key=lambda: resolve_api_key(settings),
        model=settings.anthropic_model,
        timeout_seconds=settings.classify_timeout_seconds,
        base_url=settings.anthropic_base_url,
    )
    cache = DynamoClassificationCache(
        settings.anthropic_model, settings.classification_cache_ttl_seconds
    )
    return TicketClassifier(llm, cache)


@lru_cache(maxsize=1)
def get_ticket_service() -> TicketService:
    """The ticket service wired to DynamoDB and the classifier."""
    settings = get_settings()
    bind_models(settings.table_name, settings.region)
    return TicketService(
        repository=DynamoTicketRepository(settings.counter_shards),
        classifier=get_classifier(),
        cursor_codec=CursorCodec(settings.cursor_key),
        search_scan_budget=settings.search_scan_budget,
    )


def reset_dependencies() -> None:
    """Forget every cached collaborator and the settings (for tests and the local stack)."""
    get_ticket_service.cache_clear()
    get_classifier.cache_clear()
    get_token_verifier.cache_clear()
    get_settings.cache_clear()


@lru_cache(maxsize=1)
def get_token_verifier() -> TokenVerifier | None:
    """The agent token verifier (None when Cognito is not configured: fail closed)."""
    settings = get_settings()
    return build_verifier(
        settings.cognito_issuer, settings.cognito_app_client_id, settings.cognito_jwks_url
    )
