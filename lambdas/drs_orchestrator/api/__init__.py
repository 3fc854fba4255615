"""The REST API: its OpenAPI document (the single source of truth) and request validation."""
