"""The HTTP layer: Chalice blueprints, request parsing, responses and middleware."""
