"""Lazily built, cached collaborators. Nothing here runs at import time."""

from __future__ import annotations

import secrets
from functools import lru_cache

from chalicelib.agents import AgentDirectory, CognitoAgentSource
from chalicelib.auth import TokenVerifier, build_verifier
from chalicelib.classification.llm import ClaudeClassifier
from chalicelib.classification.service import TicketClassifier
from chalicelib.conversation import ConversationService
from chalicelib.cursor import CursorCodec
from chalicelib.data.classification_cache import DynamoClassificationCache
from chalicelib.data.claude_budget import DynamoClaudeBudget
from chalicelib.data.lists import ListReader
from chalicelib.data.models import bind_models
from chalicelib.data.repository import DynamoTicketRepository
from chalicelib.errors import ServiceUnavailable
from chalicelib.links import CustomerLinks
from chalicelib.notifications.notifier import Notifier
from chalicelib.notifications.sender import SesEmailSender
from chalicelib.observability import logger
from chalicelib.search.indexer import SearchIndexer
from chalicelib.settings import Settings, get_settings
from chalicelib.stats import StatsService
from chalicelib.tickets import RetryBudget, TicketService, utc_now

# Powertools Parameters caches SSM values this long, so a rotated key is picked up in minutes.
PARAMETER_CACHE_SECONDS = 300
_PLACEHOLDERS = frozenset({"NONE", "UNSET", "CHANGE-ME"})


def _ssm_value(parameter: str) -> str | None:
    """A SecureString from SSM Parameter Store (cached), or None when unreadable."""
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_parameter(parameter, decrypt=True, max_age=PARAMETER_CACHE_SECONDS)
    except parameters.exceptions.GetParameterError:
        logger.warning("parameter unreadable", extra={"parameter": parameter})
        return None
    text = str(value).strip()
    # A placeholder value means "not configured yet".
    return None if not text or text.upper() in _PLACEHOLDERS else text


def resolve_api_key(settings: Settings) -> str | None:
    """The Anthropic key: the environment locally, SSM Parameter Store when deployed."""
    if settings.anthropic_api_key:
        return settings.anthropic_api_key
    if not settings.anthropic_api_key_parameter:
        return None
    return _ssm_value(settings.anthropic_api_key_parameter)


def _process_key(purpose: str) -> bytes:
    # Nothing configured: a random key for this process. Cursors (or links) made here
    # then only work here, which fails safe; deployed stages always configure one.
    logger.error(f"no {purpose} key configured; using a random one for this process")
    return secrets.token_bytes(32)


@lru_cache(maxsize=1)
def _random_cursor_key() -> bytes:
    return _process_key("cursor")


@lru_cache(maxsize=1)
def _random_link_key() -> bytes:
    return _process_key("customer link")


def _configured_key(parameter: str, purpose: str) -> bytes:
    value = _ssm_value(parameter)
    if value is None:
        # Configured but unreadable: refuse (503) rather than sign with a key of this
        # process only (cursors and emailed links would silently stop working), and do
        # not cache the failure (the collaborator is not built).
        raise ServiceUnavailable(f"The {purpose} key is unavailable right now; please retry", 5)
    return value.encode()


def resolve_cursor_key(settings: Settings) -> bytes:
    """The page cursors' HMAC key: the environment, else SSM (generated per stage at deploy)."""
    if settings.cursor_key:
        return settings.cursor_key
    if settings.cursor_key_parameter:
        return _configured_key(settings.cursor_key_parameter, "cursor")
    return _random_cursor_key()


def resolve_link_key(settings: Settings) -> bytes:
    """The customers' link key: the environment, else SSM (generated per stage at deploy)."""
    if settings.link_key:
        return settings.link_key
    if settings.link_key_parameter:
        return _configured_key(settings.link_key_parameter, "customer link")
    return _random_link_key()


def _bound_settings() -> Settings:
    settings = get_settings()
    bind_models(settings.table_name, settings.region)
    return settings


@lru_cache(maxsize=1)
def get_repository() -> DynamoTicketRepository:
    """The DynamoDB repository (tickets, history, messages, lists)."""
    settings = _bound_settings()
    return DynamoTicketRepository(
        settings.counter_shards, list_reader=ListReader(settings.search_candidate_budget)
    )


@lru_cache(maxsize=1)
def get_budget() -> DynamoClaudeBudget:
    """Today's Claude call budget."""
    return DynamoClaudeBudget(_bound_settings().claude_daily_call_budget)


@lru_cache(maxsize=1)
def get_classifier() -> TicketClassifier:
    """The classifier: Claude (cached in DynamoDB, within the daily budget) with the
    offline fallback."""
    settings = _bound_settings()
    llm = ClaudeClassifier(
        api_key=lambda: resolve_api_key(settings),
        model=settings.anthropic_model,
        timeout_seconds=settings.classify_timeout_seconds,
        base_url=settings.anthropic_base_url,
    )
    cache = DynamoClassificationCache(
        settings.anthropic_model, settings.classification_cache_ttl_seconds
    )
    return TicketClassifier(llm, cache, get_budget())


@lru_cache(maxsize=1)
def get_directory() -> AgentDirectory:
    """The agents' directory (Cognito ListUsers, cached)."""
    settings = get_settings()
    source = (
        CognitoAgentSource(settings.cognito_user_pool_id, settings.region)
        if settings.cognito_user_pool_id
        else None
    )
    return AgentDirectory(source, settings.agents_cache_seconds)


@lru_cache(maxsize=1)
def get_links() -> CustomerLinks:
    """The customers' private links."""
    settings = get_settings()
    return CustomerLinks(resolve_link_key(settings), settings.site_url)


def _retry() -> RetryBudget:
    return RetryBudget(get_settings().write_retry_seconds)


@lru_cache(maxsize=1)
def get_ticket_service() -> TicketService:
    """The ticket service wired to DynamoDB, the classifier and the directory."""
    settings = _bound_settings()
    return TicketService(
        repository=get_repository(),
        classifier=get_classifier(),
        cursor_codec=CursorCodec(resolve_cursor_key(settings)),
        directory=get_directory(),
        links=get_links(),
        retry=_retry(),
    )


@lru_cache(maxsize=1)
def get_conversation_service() -> ConversationService:
    """Messages, for agents and for customers' links."""
    return ConversationService(get_repository(), get_links(), _retry())


@lru_cache(maxsize=1)
def get_stats_service() -> StatsService:
    """The dashboard's figures."""
    return StatsService(get_repository(), get_budget(), utc_now)


@lru_cache(maxsize=1)
def get_indexer() -> SearchIndexer:
    """The search index maintainer (stream consumer and ``make reindex``)."""
    return SearchIndexer(get_repository())


@lru_cache(maxsize=1)
def get_notifier() -> Notifier:
    """The mailer (stream consumer)."""
    settings = _bound_settings()
    sender = SesEmailSender(settings.mail_sender, settings.region) if settings.mail_sender else None
    return Notifier(
        repository=get_repository(),
        sender=sender,
        links=get_links(),
        directory=get_directory(),
        confirmations_per_hour=settings.confirmations_per_hour,
        clock=utc_now,
        confirmations_per_hour_total=settings.confirmations_per_hour_total,
        resolved_delay_seconds=settings.resolved_email_delay_seconds,
    )


@lru_cache(maxsize=1)
def get_token_verifier() -> TokenVerifier | None:
    """The agent token verifier (None when Cognito is not configured: fail closed)."""
    settings = get_settings()
    return build_verifier(
        settings.cognito_issuer, settings.cognito_app_client_id, settings.cognito_jwks_url
    )


def reset_dependencies() -> None:
    """Forget every cached collaborator and the settings (for tests and the local stack)."""
    for getter in (
        get_repository,
        get_budget,
        get_classifier,
        get_directory,
        get_links,
        get_ticket_service,
        get_conversation_service,
        get_stats_service,
        get_indexer,
        get_notifier,
        get_token_verifier,
        get_settings,
    ):
        getter.cache_clear()
