"""Support ticket service: everything the Chalice app needs lives in this package."""
