"""The Chalice app: wiring only. Routes live in chalicelib.api, the stream consumer in
chalicelib.events."""

from typing import Any

from chalice.app import Chalice, DynamoDBEvent

from chalicelib.api.agents import agents
from chalicelib.api.authorizer import authorization
from chalicelib.api.messages import messages
from chalicelib.api.middleware import observe_request
from chalicelib.api.public import public
from chalicelib.api.tickets import tickets
from chalicelib.events.stream import handle_stream_batch

# The deploy template replaces this placeholder with the table's stream ARN
# (infra/template.yaml); `chalice package` only needs a well-formed ARN here.
TABLE_STREAM_ARN = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/support-tickets/stream/1970-01-01T00:00:00.000"
)

# configure_logs=False: the Powertools logger prints each line once, as JSON.
app = Chalice(app_name="support-tickets", configure_logs=False)
app.register_middleware(observe_request, "http")
app.register_blueprint(authorization)
app.register_blueprint(tickets)
app.register_blueprint(messages)
app.register_blueprint(public)
app.register_blueprint(agents)


@app.on_dynamodb_record(
    stream_arn=TABLE_STREAM_ARN,
    batch_size=100,
    starting_position="TRIM_HORIZON",
    maximum_batching_window_in_seconds=1,
    name="stream",
)
def on_table_change(event: DynamoDBEvent) -> dict[str, Any]:
    """Search index, customer emails and clean-up, from the table's stream."""
    return handle_stream_batch(event.to_dict(), event.context)
