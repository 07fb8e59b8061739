"""Handlers for events that are not HTTP requests: the table's DynamoDB stream."""
