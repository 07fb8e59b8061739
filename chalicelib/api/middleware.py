"""HTTP middleware: one log line and one metrics flush per request, CORS, error shape."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chalice.app import Request, Response

from chalicelib.api.http import EXPOSED_HEADERS
from chalicelib.observability import get_tracer, logger, metrics
from chalicelib.settings import get_settings

# Chalice answers some requests itself (405, 415, unhandled errors) with
# {"Code": ..., "Message": ...}; the API promises {"error": ...} everywhere.
_CHALICE_MESSAGES = {
    500: "An internal error occurred; it has been logged",
}


def _normalise_error(response: Response) -> None:
    body = response.body
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        message = _CHALICE_MESSAGES.get(response.status_code, str(body["Message"]))
        response.body = {"error": message}
        response.headers["Content-Type"] = "application/json"
    elif response.status_code >= 500 and (
        not isinstance(body, (dict, str))
        or response.headers.get("Content-Type") != "application/json"
    ):
        # Never a stack trace or a text page to the client.
        response.body = {"error": _CHALICE_MESSAGES[500]}
        response.headers["Content-Type"] = "application/json"


def _apply_cors(request: Request, response: Response) -> None:
    origin = request.headers.get("origin") if request.headers else None
    response.headers.pop("Access-Control-Allow-Origin", None)
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
    if origin and origin.rstrip("/") in get_settings().allowed_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = ",".join(EXPOSED_HEADERS)


def observe_request(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """Wrap every API request: trace, log, flush metrics, fix CORS and error shape."""
    started = time.perf_counter()
    lambda_context: Any = getattr(request, "lambda_context", None)
    request_id = (request.context or {}).get("requestId") or getattr(
        lambda_context, "aws_request_id", None
    )
    logger.append_keys(request_id=request_id)
    settings = get_settings()
    if settings.tracing_enabled:
        tracer = get_tracer()
        with tracer.provider.in_subsegment(f"## {request.method} {request.path}") as segment:
            segment.put_annotation("route", request.path)
            response = get_response(request)
            segment.put_annotation("status", str(response.status_code))
    else:
        response = get_response(request)
    _normalise_error(response)
    _apply_cors(request, response)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Content-Type-Options"] = "nosniff"
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    logger.info(
        "request",
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "latency_ms": latency_ms,
        },
    )
    if metrics.metric_set:
        metrics.flush_metrics()
    logger.remove_keys(["request_id"])
    return response
