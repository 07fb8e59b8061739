"""Claude classification through the anthropic SDK, imported on first use only.

``import anthropic`` costs about 0.7 s, and Chalice serves every route from one
Lambda, so the SDK is loaded lazily: cold starts of the other routes never pay it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from chalicelib.classification.prompt import (
    CLASSIFICATION_TOOL,
    SYSTEM_PROMPT,
    TOOL_NAME,
    user_message,
)
from chalicelib.domain import (
    Category,
    Classification,
    ClassificationSource,
    Confidence,
    Priority,
)
from chalicelib.errors import ClassificationUnavailable

if TYPE_CHECKING:
    import anthropic
    from anthropic.types import MessageParam, ToolChoiceToolParam, ToolParam

# One retry at most, and only when the remaining budget still allows a real attempt.
_RETRY_BACKOFF_SECONDS = 0.2
_MIN_ATTEMPT_SECONDS = 1.0


class ClaudeClassifier:
    """Asks Claude for a category and priority; raises ClassificationUnavailable on any failure.

    The SDK's own retries are off (``max_retries=0``): it honours ``retry-after``
    headers of up to 60 s, which would blow API Gateway's 29 s limit. Instead one
    deadline covers the whole call, retries included.
    """

    def __init__(
        self,
        api_key: Callable[[], str | None],
        model: str,
        timeout_seconds: float,
        base_url: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api_key = api_key
        self._model = model
        self._timeout = timeout_seconds
        self._base_url = base_url
        self._clock = clock
        self._sleep = sleep
        self._client: anthropic.Anthropic | None = None
        self._client_key: str | None = None

    def configured(self) -> bool:
        """Whether an API key is available (environment or SSM)."""
        return bool(self._api_key())

    def _get_client(self) -> anthropic.Anthropic:
        key = self._api_key()
        if not key:
            raise ClassificationUnavailable("no Anthropic API key is configured", no_key=True)
        if self._client is None or self._client_key != key:
            import anthropic

            self._client = anthropic.Anthropic(
                api_key=key,
                base_url=self._base_url,
                max_retries=0,
                timeout=self._timeout,
            )
            self._client_key = key
        return self._client

    def classify(self, title: str, description: str) -> Classification:
        """Claude's suggestion, or ClassificationUnavailable with a reason a person can read."""
        client = self._get_client()
        import anthropic

        messages: list[MessageParam] = [
            {"role": "user", "content": user_message(title, description)}
        ]
        tool_choice: ToolChoiceToolParam = {"type": "tool", "name": TOOL_NAME}
        deadline = self._clock() + self._timeout
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - self._clock()
            try:
                response = client.messages.create(
                    model=self._model,
                    max_tokens=100,
                    system=SYSTEM_PROMPT,
                    messages=messages,
                    tools=[cast("ToolParam", CLASSIFICATION_TOOL)],
                    tool_choice=tool_choice,
                    timeout=max(remaining, 0.1),
                )
                return _parse(response)
            except anthropic.APITimeoutError as exc:
                raise ClassificationUnavailable("the AI service timed out") from exc
            except anthropic.AuthenticationError as exc:
                raise ClassificationUnavailable("the AI service rejected the API key") from exc
            except (
                anthropic.RateLimitError,
                anthropic.InternalServerError,
                anthropic.APIConnectionError,
            ) as exc:
                reason = _reason(exc)
                if attempt >= 2 or deadline - self._clock() < _MIN_ATTEMPT_SECONDS:
                    raise ClassificationUnavailable(reason) from exc
                self._sleep(_RETRY_BACKOFF_SECONDS)
            except anthropic.APIStatusError as exc:
                raise ClassificationUnavailable(_reason(exc)) from exc


def _reason(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    if status == 429:
        return "the AI service is rate limiting requests (429)"
    if status == 529:
        return "the AI service is overloaded (529)"
    if status is not None:
        return f"the AI service returned an error ({status})"
    return "the AI service could not be reached"


def _parse(response: Any) -> Classification:
    for block in getattr(response, "content", None) or []:
        if getattr(block, "type", None) == "tool_use" and getattr(block, "name", None) == TOOL_NAME:
            payload = block.input if isinstance(block.input, dict) else {}
            try:
                category = Category(str(payload.get("category")))
                priority = Priority(str(payload.get("priority")))
            except ValueError as exc:
                raise ClassificationUnavailable(
                    "the AI answer was outside the allowed categories or priorities"
                ) from exc
            return Classification(
                category, priority, ClassificationSource.LLM, _confidence(payload)
            )
    raise ClassificationUnavailable("the AI answer did not contain a classification")


def _confidence(payload: dict[str, Any]) -> Confidence:
    # The schema requires it, but an answer that does not vouch for itself (an older
    # model, a non-strict reply) is one a person should check: missing or unknown is low.
    value = payload.get("confidence")
    return Confidence.HIGH if value == Confidence.HIGH.value else Confidence.LOW
