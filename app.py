"""The Chalice app: wiring only. Routes live in chalicelib.api."""

from chalice.app import Chalice

from chalicelib.api.authorizer import authorization
from chalicelib.api.middleware import observe_request
from chalicelib.api.routes import tickets

# configure_logs=False: the Powertools logger prints each line once, as JSON.
app = Chalice(app_name="support-tickets", configure_logs=False)
app.register_middleware(observe_request, "http")
app.register_blueprint(authorization)
app.register_blueprint(tickets)
