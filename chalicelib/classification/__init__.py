"""Ticket classification: Claude first, an offline keyword classifier as the fallback."""
