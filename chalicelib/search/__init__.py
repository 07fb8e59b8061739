"""Full-text search over tickets: what a word is, how text becomes index terms, and
how a query becomes the terms to look up (chalicelib.data.search_index stores them)."""
