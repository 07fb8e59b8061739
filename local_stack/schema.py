"""Create the DynamoDB table from the PynamoDB models (local stack and tests only;
deployed tables come from the CloudFormation template)."""

from __future__ import annotations

from chalicelib.data.models import TicketModel, bind_models


def ensure_table(table_name: str, region: str) -> None:
    """Create the single table with every index the models declare, and its stream
    (new and old images, as the deployed table has), if missing."""
    bind_models(table_name, region)
    if not TicketModel.exists():
        TicketModel.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
