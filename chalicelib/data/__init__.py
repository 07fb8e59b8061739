"""Data access: PynamoDB models and the repository that maps them to domain objects."""
