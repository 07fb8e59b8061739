"""The local stack: moto, the Chalice API, the static site and a fake Claude, on one machine.

Nothing here is deployed (Chalice packages only app.py and chalicelib/).
"""
