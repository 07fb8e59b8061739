"""Ticket classification: Claude first, an offline learned classifier as the fallback."""
