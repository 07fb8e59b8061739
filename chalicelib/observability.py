"""The one place that creates the Powertools logger, metrics and (lazily) the tracer."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE_NAME = "support-tickets"
METRICS_NAMESPACE = "SupportTickets"

# The Powertools logger gets its own name: Chalice's app logger would print each line twice.
logger = Logger(service=SERVICE_NAME, logger_name="support_tickets")
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)


@lru_cache(maxsize=1)
def get_tracer() -> Tracer:
    """The X-Ray tracer, created on first use.

    ``Tracer()`` loads aws_xray_sdk (about 0.2 s) even when tracing is off, so it is
    only built when the settings enable tracing (deployed stages with X-Ray on).
    """
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE_NAME, patch_modules=["botocore"])
