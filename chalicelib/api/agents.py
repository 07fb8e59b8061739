"""The agents' directory: who can be assigned tickets."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.authorizer import agent_authorizer
from chalicelib.api.guards import register_method_not_allowed
from chalicelib.api.http import ANY_CONTENT_TYPE, CORS, api_view, json_response
from chalicelib.api.openapi import openapi_document
from chalicelib.api.representations import agent_json
from chalicelib.dependencies import get_directory

agents = Blueprint(__name__)


@agents.route(
    "/agents",
    methods=["GET"],
    cors=CORS,
    content_types=ANY_CONTENT_TYPE,
    authorizer=agent_authorizer,
)
@api_view
def list_agents() -> Response:
    """Every agent of the user pool (cached for a minute)."""
    return json_response([agent_json(agent) for agent in get_directory().agents()])


@agents.route("/openapi.json", methods=["GET"], cors=CORS, content_types=ANY_CONTENT_TYPE)
@api_view
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API."""
    return json_response(openapi_document(), headers={"Cache-Control": "public, max-age=300"})


register_method_not_allowed(agents, (("/agents", ("GET",)), ("/openapi.json", ("GET",))))
